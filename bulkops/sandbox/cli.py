"""``bulkops sandbox``: serve the fake Twilio API until Ctrl-C.

The top-level CLI adds the flags (:mod:`.flags`) and calls :func:`run_sandbox`.
``python -m bulkops.sandbox`` runs the same command on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..config import is_loopback_host
from ..errors import BulkopsError, Exit, UsageError
from ..jobs import open_job
from ..model import Op
from .flags import add_sandbox_arguments, load_profile_from_args
from .seeding import seed_from_job
from .server import Sandbox
from .world import World

_PROG = "bulkops sandbox"


def build_world(args: argparse.Namespace, *, log: TextIO = sys.stderr) -> World:
    """The world the flags describe: ``--state`` if it exists, credentials, ``--seed-from``."""
    if args.state and Path(args.state).exists():
        world = World.load(args.state)
        print(f"# loaded {args.state}: {world.summary()}", file=log)
    else:
        world = World()
    if args.account_sid:
        world = _with_credentials(world, account_sid=args.account_sid)
    if args.auth_token:
        world = _with_credentials(world, auth_token=args.auth_token)
    for path in args.seed_from:
        used, skipped = seed_from_job(world, open_job(path, default_op=Op.FETCH))
        print(f"# seeded from {path}: {used} rows ({skipped} invalid rows skipped)", file=log)
    return world


def _with_credentials(world: World, **changes: str) -> World:
    doc = world.to_json()
    doc.update(changes)
    return World.from_json(doc)


def server_tls(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """The HTTPS context of ``--tls-cert``/``--tls-key``; None for plain HTTP.

    Raises :class:`UsageError` naming the file when it cannot be loaded.
    """
    if cert is None:
        if key is not None:
            raise UsageError("--tls-key needs --tls-cert")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except OSError as exc:
        raise UsageError(f"--tls-cert {cert}: cannot read: {exc.strerror or exc}") from None
    except ssl.SSLError as exc:
        raise UsageError(
            f"--tls-cert {cert}: not a PEM certificate and key ({exc.reason})"
        ) from None
    return context


def run_sandbox(
    args: argparse.Namespace, *, out: TextIO | None = None, log: TextIO | None = None
) -> int:
    """Serve until SIGINT/SIGTERM, then save ``--state``. Returns the exit status."""
    out = out or sys.stdout
    log = log or sys.stderr
    if not is_loopback_host(args.host):
        print(
            f"{_PROG}: refusing --host {args.host}: the sandbox serves only on loopback "
            "(127.0.0.1, ::1 or localhost)",
            file=log,
        )
        return Exit.USAGE
    try:
        load = load_profile_from_args(args)
        world = build_world(args, log=log)
        tls = server_tls(args.tls_cert, args.tls_key)
    except (BulkopsError, ValueError) as exc:
        print(f"{_PROG}: {exc}", file=log)
        return Exit.USAGE
    try:
        sandbox = Sandbox(world=world, load=load, host=args.host, port=args.port, tls=tls)
        asyncio.run(_serve(sandbox, out=out, log=log))
    except KeyboardInterrupt:
        pass  # Ctrl-C before the signal handlers were in place
    except OSError as exc:
        print(f"{_PROG}: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=log)
        return Exit.USAGE
    if args.state:
        world.save(args.state)
        print(f"# saved {args.state}: {world.summary()}", file=log)
    return Exit.OK


async def _serve(sandbox: Sandbox, *, out: TextIO, log: TextIO) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with sandbox as sb:
            exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sb.env().items())
            print(
                f"# bulkops sandbox serving {sb.base_url} "
                f"(stats: {sb.base_url}/sandbox/stats); Ctrl-C stops it",
                file=out,
            )
            print(f"export {exports}", file=out, flush=True)
            await stop.wait()
            print("# stopping", file=log, flush=True)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bulkops.sandbox``: the sandbox command on its own."""
    parser = argparse.ArgumentParser(
        prog="python -m bulkops.sandbox",
        description="Serve a local fake of Twilio's sender APIs (Messaging v1, 2010) until Ctrl-C.",
    )
    add_sandbox_arguments(parser)
    return run_sandbox(parser.parse_args(argv))
