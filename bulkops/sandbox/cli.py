"""``bulkops sandbox``: serve the fake Twilio API until Ctrl-C.

The top-level CLI adds the flags with :func:`add_sandbox_arguments` and calls
:func:`run_sandbox`; ``bulkops run --sandbox`` can reuse the load flags alone
with :func:`add_load_arguments` and :func:`load_profile_from_args`.
``python -m bulkops.sandbox`` runs the same command on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import fields
from pathlib import Path
from typing import TextIO

from ..config import is_loopback_host
from ..errors import BulkopsError
from ..model import Op, Row
from .load import LoadProfile
from .problems import TwilioProblem
from .server import Sandbox
from .world import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, World

_PROG = "bulkops sandbox"


def _number(
    kind: type[int] | type[float], *, low: float, high: float | None = None, low_ok: bool = True
) -> Callable[[str], int | float]:
    """An argparse ``type`` that parses ``kind`` and checks it lies in [low, high]."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {kind.__name__}: {text!r}") from None
        if value < low or (value == low and not low_ok) or (high is not None and value > high):
            bound = (
                f"from {low:g} to {high:g}"
                if high is not None
                else f"at least {low:g}"
                if low_ok
                else f"above {low:g}"
            )
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


_COUNT = _number(int, low=1)
_SECONDS = _number(int, low=0)
_MS = _number(float, low=0)
_P = _number(float, low=0, high=1)

#: flag, LoadProfile field, type, metavar, help; dest is ``sandbox_<field>``.
_LOAD_FLAGS: tuple[tuple[str, str, Callable[[str], int | float], str, str], ...] = (
    ("--max-in-flight", "max_in_flight", _COUNT, "N",
     "answer 429/20429 while N requests are being served"),
    ("--max-per-second", "max_per_second", _COUNT, "N",
     "answer 429/20429 past N requests in any one-second window"),
    ("--retry-after", "retry_after_s", _SECONDS, "S",
     "send Retry-After: S on 429s (Twilio does not promise one)"),
    ("--latency-ms", "latency_mean_ms", _MS, "MEAN", "mean added latency per request, ms"),
    ("--latency-jitter-ms", "latency_jitter_ms", _MS, "J", "± uniform jitter on the latency, ms"),
    ("--fail-500", "fail_500_p", _P, "P", "probability of a 500/20500 answer"),
    ("--fail-503", "fail_503_p", _P, "P", "probability of a 503/20503 answer"),
    ("--drop", "drop_p", _P, "P", "probability of closing the connection without an answer"),
    ("--stall", "stall_p", _P, "P",
     "probability of holding a request --stall-s seconds, then handling it"),
    ("--stall-s", "stall_s", _number(float, low=0, low_ok=False), "S",
     "how long a stalled request is held (default 120)"),
    ("--seed", "seed", int, "N", "seed the fault and jitter draws, for a reproducible run"),
)  # fmt: skip
_DEFAULTS = {f.name: f.default for f in fields(LoadProfile)}


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The load and fault flags (dests ``sandbox_<LoadProfile field>``), all off by default."""
    group = parser.add_argument_group("sandbox load and faults (all off by default)")
    for flag, field, parse, metavar, help_text in _LOAD_FLAGS:
        group.add_argument(
            flag,
            dest=f"sandbox_{field}",
            type=parse,
            default=_DEFAULTS[field],
            metavar=metavar,
            help=help_text,
        )


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """All flags of ``bulkops sandbox``."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    add(
        "--port",
        type=_number(int, low=0, high=65535),
        default=8080,
        help="port to bind (default 8080; 0 = any free port)",
    )
    add(
        "--seed-from",
        dest="seed_from",
        action="append",
        default=[],
        metavar="JOB",
        help="make every service and sender named in this job file exist (repeatable)",
    )
    add("--state", metavar="FILE", help="load the world from FILE if it exists; save it on exit")
    add("--account-sid", help=f"the sandbox's account SID (default {DEFAULT_ACCOUNT_SID})")
    add("--auth-token", help=f"the sandbox's auth token (default {DEFAULT_AUTH_TOKEN})")
    add_load_arguments(parser)


def load_profile_from_args(args: argparse.Namespace) -> LoadProfile:
    """The :class:`LoadProfile` the flags of :func:`add_load_arguments` describe.

    Raises ValueError for an inconsistent set (e.g. probabilities adding up over 1).
    """
    return LoadProfile(**{field: getattr(args, f"sandbox_{field}") for _, field, *_ in _LOAD_FLAGS})


def seed_from_job(
    world: World, path: str | Path, *, default_op: Op = Op.FETCH, stage: bool = False
) -> tuple[int, int]:
    """Make every valid row's services and sender exist; returns (rows used, rows skipped).

    ``stage`` also puts each sender where the job expects to find it (a detach
    row's service, a migrate row's source; the first such row wins), so
    that ``bulkops run JOB --sandbox`` shows a detach or a migration doing real
    work. Raises :class:`~bulkops.errors.JobFileError` for a file that is not a job.
    """
    from ..jobs import iter_job  # the job reader is only needed when seeding

    used = skipped = 0
    for row in iter_job(path, default_op=default_op):
        if not isinstance(row, Row):
            skipped += 1
            continue
        world.add_service(row.service_sid)
        from_service_sid = getattr(row, "from_service_sid", None)
        if from_service_sid is not None:
            world.add_service(from_service_sid)
        world.seed_senders(row.kind, [row.sender_sid])
        used += 1
        if stage:
            _stage(world, row)
    return used, skipped


def _stage(world: World, row: Row) -> None:
    where = {Op.DETACH: row.service_sid, Op.MIGRATE: row.from_service_sid}
    target = where.get(row.op)
    if target is None or world.senders[row.sender_sid].service_sid is not None:
        return
    with suppress(TwilioProblem):  # a full pool: leave it unattached
        world.attach(target, row.kind, row.sender_sid)


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
        used, skipped = seed_from_job(world, path)
        print(f"# seeded from {path}: {used} rows ({skipped} invalid rows skipped)", file=log)
    return world


def _with_credentials(world: World, **changes: str) -> World:
    doc = world.to_json()
    doc.update(changes)
    return World.from_json(doc)


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
        return 2
    try:
        load = load_profile_from_args(args)
        world = build_world(args, log=log)
    except (BulkopsError, ValueError) as exc:
        print(f"{_PROG}: {exc}", file=log)
        return 2
    try:
        asyncio.run(_serve(world, load, host=args.host, port=args.port, out=out, log=log))
    except KeyboardInterrupt:
        pass  # Ctrl-C before the signal handlers were in place
    except OSError as exc:
        print(f"{_PROG}: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=log)
        return 2
    if args.state:
        world.save(args.state)
        print(f"# saved {args.state}: {world.summary()}", file=log)
    return 0


async def _serve(
    world: World, load: LoadProfile, *, host: str, port: int, out: TextIO, log: TextIO
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Sandbox(world=world, load=load, host=host, port=port) as sb:
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
        description="Serve a local fake of Twilio's Messaging v1 ShortCodes API until Ctrl-C.",
    )
    add_sandbox_arguments(parser)
    return run_sandbox(parser.parse_args(argv))
