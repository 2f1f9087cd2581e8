"""``bulkops verify``: does the world hold what a job asks for?

Passes over the job file, each streamed: numbers the job names are resolved
to SIDs as a run resolves them (:mod:`bulkops.resolve`); then the distinct
services of its valid rows, with the kinds each is asked about, are collected;
each service is listed once per kind (paged, retried), and the last pass
checks every row against what the lists held, by the rules of
:mod:`~bulkops.commands.checks`.

Memory holds one entry per sender attached to a listed service (at most 400
per service and kind, Twilio's limit), never one per row. A service the account does
not have (404) holds nothing. Each mismatch and each invalid row is printed on
stdout as ``JOB:LINE: …``; a summary goes to stderr.

Exit codes: 0 every row holds; 1 a mismatch or an invalid row; 2 bad flags or a
job file that cannot be read; 3 the API refused the credentials or kept failing
past ``--max-attempts`` (nothing verified).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import check_positive, positive_arg
from ..errors import Exit, RunAborted, UsageError
from ..jobs import Job, open_job
from ..model import Op, SenderKind
from ..resolve import Resolution, numbers_named, resolve_numbers
from ..twilio import Resource, ServiceLister
from .checks import Holdings, Problem, VerifyReport, check_rows, plan, tally
from .connection import Connection, add_connection_arguments, connection_from_args
from .sandboxed import embedded_sandbox, sandbox_world
from .survey import list_each


async def list_holdings(
    lister: ServiceLister,
    services: Mapping[str, Iterable[SenderKind]],
    *,
    concurrency: int = 4,
) -> Holdings:
    """List each service once per kind it is asked about, ``concurrency`` lists at a time.

    A service that answers 404 is recorded as missing. Raises :class:`RunAborted`
    when one listing fails for good (the others are cancelled).
    """
    where: dict[str, list[str]] = {}
    missing: set[str] = set()

    def take(service_sid: str, kind: SenderKind, page: list[Resource]) -> None:
        field = kind.spec.identity_field
        for item in page:
            where.setdefault(str(item.get(field) or ""), []).append(service_sid)

    await list_each(lister, services, take, concurrency=concurrency, missing=missing.add)
    return Holdings(where, frozenset(missing), services=len(services), pages=lister.pages)


async def verify(
    job: str | Path | Job,
    *,
    connection: Connection,
    default_op: Op | None = None,
    report: Callable[[Problem], None] = lambda problem: None,
    concurrency: int = 4,
) -> VerifyReport:
    """Check every row of ``job`` against one listing of each of its services.

    ``job`` is a path (checked whole first, rows without an op taking
    ``default_op``) or a :class:`~bulkops.jobs.Job` already opened. ``report``
    receives each problem in file order as it is found; up to ``concurrency``
    services are listed at once. Raises
    :class:`~bulkops.errors.JobFileError` for a job that cannot be read (before
    any request), :class:`~bulkops.errors.UsageError` for a ``concurrency``
    below 1, and :class:`RunAborted` when a listing fails for good.
    """
    check_positive("concurrency", concurrency)
    checked = job if isinstance(job, Job) else open_job(job, default_op=default_op)
    async with connection.listers(pool_size=concurrency) as listers:
        wanted = numbers_named(checked.rows())
        resolution = await resolve_numbers(wanted, listers.account) if wanted else Resolution({})
        services, last = plan(resolution.rows(checked.rows()))
        holdings = await list_holdings(listers.services, services, concurrency=concurrency)
    holdings = replace(holdings, pages=listers.pages)
    return tally(check_rows(resolution.rows(checked.rows()), holdings, last), holdings, report)


# -- the command line -----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``bulkops verify``."""
    parser.add_argument("job", metavar="JOB", help="CSV (with header) or .jsonl job file")
    parser.add_argument(
        "--op", choices=[op.value for op in Op], help="operation for rows without one"
    )
    parser.add_argument(
        "--concurrency",
        type=positive_arg(int),
        default=4,
        metavar="N",
        help="services listed at once (default 4)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="verify against an embedded sandbox (seeded from JOB unless --state names a world)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="with --sandbox: the sandbox's world from FILE if it exists; saved back",
    )
    add_connection_arguments(parser)


async def _verify_in_sandbox(
    job: str | Job, args: argparse.Namespace, **options: Any
) -> VerifyReport:
    """:func:`verify` against an embedded sandbox: ``--state``'s world, else seeded from the job."""
    from ..sandbox import seed_from_job

    checked = job if isinstance(job, Job) else open_job(job, default_op=options.get("default_op"))
    world = sandbox_world(args.state, lambda w: seed_from_job(w, checked))
    async with embedded_sandbox(world, args.state) as sandbox:
        connection = Connection(base_url=sandbox.base_url, credentials=sandbox.credentials())
        return await verify(checked, connection=connection, **options)


def run_command(args: argparse.Namespace) -> int:
    """``bulkops verify``: 0 all hold, 1 mismatches or invalid rows, 3 aborted.

    A job file that cannot be read, then bad credentials, raise
    :class:`~bulkops.errors.JobFileError` or :class:`~bulkops.errors.UsageError`
    (the job is checked first, as ``bulkops run`` does), which the CLI turns
    into exit 2.
    """
    default_op = Op(args.op) if args.op else None
    if args.state and not args.sandbox:
        raise UsageError("--state applies only with --sandbox")
    if args.sandbox and args.base_url:
        raise UsageError("--sandbox and --base-url exclude each other")
    job = str(args.job)
    checked = open_job(job, default_op=default_op)  # the job first, then the credentials

    def show(problem: Problem) -> None:
        print(f"{job}:{problem.line}: {problem.message}")

    options: dict[str, Any] = {
        "default_op": default_op,
        "report": show,
        "concurrency": args.concurrency,
    }
    try:
        if args.sandbox:
            result = asyncio.run(_verify_in_sandbox(checked, args, **options))
        else:
            connection = connection_from_args(args)
            result = asyncio.run(verify(checked, connection=connection, **options))
    except RunAborted as exc:
        print(f"bulkops: verify aborted, nothing verified: {exc.reason}", file=sys.stderr)
        return Exit.ABORTED
    sys.stdout.flush()
    print(f"bulkops: {result.line()}", file=sys.stderr)
    return Exit.OK if result.ok else Exit.FAILED


__all__ = ["add_arguments", "list_holdings", "run_command", "verify"]
