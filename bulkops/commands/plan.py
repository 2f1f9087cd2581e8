"""``bulkops plan DESIRED -o plan.csv``: the job that puts every sender where a file says.

``DESIRED`` is a job-like file of ``service_sid`` and a sender column (any kind
and naming); each row means "this sender should be in this service" (``op``
empty or ``attach``). The current state is listed (:mod:`.survey`), the plan
made (:func:`bulkops.planning.make_plan`) and written as a job file with
``plan.summary.json`` beside it; stderr gets each conflict as ``FILE:LINE:
problem``, the counts, each service's senders before → after against the limit,
and the calls the run will make.

Exit codes: 0 no conflicts; 1 conflicts (the plan holds the rest); 2 bad flags
or a file that cannot be read; 3 the API refused the credentials or kept
failing (nothing written). With ``--detailed-exitcode``, as Terraform's: 0 no
changes, 2 changes, 1 errors or conflicts.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..config import check_positive, positive_arg
from ..errors import Exit, JobFileError, RunAborted, UsageError
from ..jobs import Job, open_job
from ..model import Op
from ..planning import Plan, make_plan, summary_path, write_plan, write_summary
from .connection import Connection, add_connection_arguments, connection_from_args
from .sandboxed import embedded_sandbox, sandbox_world
from .survey import survey

if TYPE_CHECKING:
    from ..sandbox import World


@dataclass(frozen=True, slots=True)
class Planned:
    """A plan and the list calls it took to make."""

    plan: Plan
    #: List calls that succeeded (one per page), of every listing.
    list_calls: int


async def plan_job(
    job: Job, *, connection: Connection, prune: bool = False, concurrency: int = 4
) -> Planned:
    """Plan ``job`` (a desired file, opened with ``default_op=Op.ATTACH``) against the account.

    Up to ``concurrency`` lists run at once. Raises :class:`RunAborted` when a
    listing fails for good, :class:`UsageError` for a ``concurrency`` below 1.
    """
    check_positive("concurrency", concurrency)
    async with connection.listers(pool_size=concurrency) as listers:
        found = await survey(
            job, listers.services, listers.account, prune=prune, concurrency=concurrency
        )
    return Planned(make_plan(found.items, found.current, prune=prune), listers.pages)


def render(planned: Planned, *, desired: str, out: TextIO) -> None:
    """The plan for people: conflicts as ``FILE:LINE: problem``, counts, services, calls."""
    plan = planned.plan
    for conflict in plan.conflicts:
        print(f"{desired}:{conflict.line}: {conflict.message}", file=out)
    counts = (
        f"{plan.count(Op.ATTACH):,} to attach, {plan.count(Op.MIGRATE):,} to move, "
        f"{plan.count(Op.DETACH):,} to detach, {plan.unchanged:,} unchanged, "
        f"{len(plan.conflicts):,} conflicts left out"
    )
    repeated = f", {plan.repeated:,} repeated rows" if plan.repeated else ""
    print(f"bulkops: plan: {counts}{repeated}", file=out)
    if plan.services:
        width = max(len(s.service_sid) for s in plan.services)
        print(f"{'service':<{width}}  before → after  (limit {plan.limit})", file=out)
        for s in plan.services:
            full = "  full" if s.after >= plan.limit else ""
            print(f"{s.service_sid:<{width}}  {s.before:>6} → {s.after:>5}{full}", file=out)
    print(
        f"bulkops: the run will make {plan.calls:,} calls, after one read that proves the "
        f"connection (this plan took {planned.list_calls:,} list calls)",
        file=out,
    )


def exit_code(plan: Plan, *, detailed: bool) -> Exit | int:
    """0/1 by conflicts; with ``detailed``, Terraform's 0 no changes, 1 conflicts, 2 changes."""
    if plan.conflicts:
        return Exit.FAILED
    if detailed and plan.changes:
        return 2
    return Exit.OK


# -- the command line -----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``bulkops plan``."""
    add = parser.add_argument
    add("desired", metavar="DESIRED", help="CSV or .jsonl: service_sid and a sender per row")
    add("-o", "--out", required=True, metavar="PLAN", help="the plan: a job file (CSV) to run")
    add(
        "--prune",
        action="store_true",
        help="detach each sender of a desired service that the file does not list there",
    )
    add(
        "--detailed-exitcode",
        action="store_true",
        help="as Terraform: 0 no changes, 2 changes, 1 errors or conflicts",
    )
    add(
        "--concurrency",
        type=positive_arg(int),
        default=4,
        metavar="N",
        help="lists at once (default 4)",
    )
    add(
        "--sandbox",
        action="store_true",
        help="plan against an embedded sandbox seeded from DESIRED, senders spread over services",
    )
    add(
        "--state",
        metavar="FILE",
        help="with --sandbox: load the sandbox's world from FILE if it exists; save it at the end",
    )
    add_connection_arguments(parser)


def run_command(args: argparse.Namespace) -> int:
    """``bulkops plan``; see the module for exit codes."""
    try:
        return _run(args)
    except (UsageError, JobFileError) as exc:
        if not args.detailed_exitcode:
            raise
        print(f"bulkops: error: {exc}", file=sys.stderr)
        return Exit.FAILED  # Terraform's "error" under -detailed-exitcode


def _run(args: argparse.Namespace) -> int:
    desired = str(args.desired)
    if args.state and not args.sandbox:
        raise UsageError("--state applies only with --sandbox")
    if args.sandbox and args.base_url:
        raise UsageError("--sandbox and --base-url exclude each other")
    job = open_job(desired, default_op=Op.ATTACH)
    world = None
    if args.sandbox:
        from ..sandbox import spread_from_job

        world = sandbox_world(args.state, lambda w: spread_from_job(w, job))
    try:
        planned = asyncio.run(_plan(args, job, world))
    except RunAborted as exc:
        print(f"bulkops: plan aborted, nothing written: {exc.reason}", file=sys.stderr)
        return Exit.ABORTED
    out = Path(args.out)
    summary = summary_path(out)
    try:
        write_plan(planned.plan, out)
        write_summary(planned.plan, summary, desired=desired, plan_path=str(out))
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the plan: {exc.strerror or exc}") from None
    render(planned, desired=desired, out=sys.stderr)
    rows = len(planned.plan.steps)
    again = ["bulkops", "run", str(out)]
    if args.sandbox:
        again += ["--sandbox", *(["--state", args.state] if args.state else [])]
    print(
        f"bulkops: wrote {out} ({rows:,} rows) and {summary}; run it with: {shlex.join(again)}",
        file=sys.stderr,
    )
    if args.sandbox and not args.state:
        print("bulkops: the sandbox's world is gone: keep it with --state FILE", file=sys.stderr)
    return exit_code(planned.plan, detailed=args.detailed_exitcode)


async def _plan(args: argparse.Namespace, job: Job, world: World | None) -> Planned:
    """Plan against the flags' connection, or (``world`` given) an embedded sandbox serving it."""
    if world is None:
        connection = connection_from_args(args)
        return await plan_job(
            job, connection=connection, prune=args.prune, concurrency=args.concurrency
        )
    async with embedded_sandbox(world, args.state) as sandbox:
        connection = Connection(base_url=sandbox.base_url, credentials=sandbox.credentials())
        return await plan_job(
            job, connection=connection, prune=args.prune, concurrency=args.concurrency
        )


__all__ = ["Planned", "add_arguments", "exit_code", "plan_job", "render", "run_command"]
