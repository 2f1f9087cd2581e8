"""``bulkops run``: flags in, :func:`bulkops.run_job` called once, a report out.

Three steps: :func:`prepare` turns flags and environment into a :class:`Plan`
(nothing sent yet; a bad flag or job file raises here), :func:`execute` runs it
(against Twilio, or an embedded sandbox seeded from the job), :func:`conclude`
prints the report and says how to finish an interrupted run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace

from structlog.typing import FilteringBoundLogger

from ..config import Credentials, RunConfig, resolve_base_url
from ..egress import resolve_egress
from ..errors import Exit, UsageError
from ..jobs import Job, open_job
from ..journal import check_results_path, failed_path
from ..logs import make_logger
from ..model import Op, Outcome
from ..run import RunHooks, RunSummary, run_job
from ..sandbox.flags import load_profile_from_args
from ..sandbox.profile import LoadProfile
from .dry_run import dry_run
from .progress import Progress
from .report import render_text
from .sandboxed import embedded_sandbox, sandbox_world


@dataclass(frozen=True, slots=True)
class Plan:
    """A run ready to go: everything :func:`execute` needs, checked."""

    args: argparse.Namespace
    job: Job
    config: RunConfig
    #: None: run against an embedded sandbox with this load profile.
    credentials: Credentials | None
    load: LoadProfile


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` of ``bulkops run``'s flags; raises UsageError for bad values."""
    return RunConfig(
        default_op=Op(args.op) if args.op else None,
        concurrency=args.concurrency,
        rate_per_s=args.rate,
        max_attempts=args.max_attempts,
        timeout_s=args.timeout,
        max_failures=args.max_failures,
        max_failure_rate=args.max_failure_rate,
        grace_s=args.grace,
        settle_s=args.settle,
    )


def cmd_run(args: argparse.Namespace) -> int:
    """``bulkops run``: the exit status; raises UsageError or JobFileError before any call."""
    config = config_from_args(args)
    job = open_job(args.job, default_op=config.default_op)
    if args.dry_run:
        return dry_run(job, results=args.results, resume=args.resume)
    plan = prepare(args, job, config)
    progress = Progress.start(None, quiet=args.quiet)
    log = make_logger(
        json_format=args.log_format == "json",
        verbose=args.verbose,
        secrets=plan.credentials.secrets if plan.credentials else (),
        stream=progress.log_stream(sys.stderr),
    )
    progress.set_ceiling(config.concurrency)
    with progress, fewer_collections():
        try:
            summary = asyncio.run(execute(plan, log, progress))
        except KeyboardInterrupt:  # before the signal handlers were in place
            return Exit.INTERRUPTED
    return conclude(plan, summary)


#: Container objects allocated (net) between the collector's youngest-generation
#: passes during a run; CPython's default is 700.
RUN_GC_THRESHOLD = 10_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Within the block, the cyclic garbage collector runs about 14 times less often.

    A run allocates a few dozen container objects per row, nearly all freed by
    reference counting at once; at CPython's default every 700 allocations the
    collector still walks the calls in flight (and, now and then, every object
    the libraries made at import). That was 1.7 % of a 10,000-row run's CPU,
    measured with ``gc.callbacks``; at :data:`RUN_GC_THRESHOLD`, 0.1 %. Cyclic
    garbage (a caught exception and its traceback) waits that much longer to go.
    The previous thresholds come back when the block ends.
    """
    before = gc.get_threshold()
    gc.set_threshold(RUN_GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def prepare(args: argparse.Namespace, job: Job, config: RunConfig) -> Plan:
    """Check the flags that depend on each other and read credentials; raises UsageError."""
    check_results_path(args.results, resume=args.resume)  # before a sandbox starts and logs
    try:
        load = load_profile_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.state and not args.sandbox:
        raise UsageError("--state applies only with --sandbox")
    if args.sandbox:
        if args.base_url:
            raise UsageError("--sandbox and --base-url exclude each other")
        return Plan(args, job, config, None, load)
    if load != LoadProfile():
        raise UsageError("the sandbox load and fault flags only apply with --sandbox")
    credentials = Credentials.from_env()
    base_url = resolve_base_url(args.base_url)
    egress = resolve_egress(base_url, proxy=args.proxy, ca_bundle=args.ca_bundle)
    config = replace(config, base_url=base_url, egress=egress)
    return Plan(args, job, config, credentials, load)


async def execute(plan: Plan, log: FilteringBoundLogger, progress: Progress) -> RunSummary:
    """Run the plan: against its base URL, or (no credentials) an embedded sandbox."""
    hooks = RunHooks(log=log, observer=progress, handle_signals=True)
    if plan.credentials is not None:
        return await _run(plan, plan.config, plan.credentials, hooks)
    from ..sandbox import seed_from_job  # only a sandbox run needs it

    state = plan.args.state
    world = sandbox_world(state, lambda w: seed_from_job(w, plan.job, stage=True))
    async with embedded_sandbox(world, state, load=plan.load) as sandbox:
        log.info("bulkops.sandbox.started", base_url=sandbox.base_url, **world.summary())
        config = replace(plan.config, base_url=sandbox.base_url)
        summary = await _run(plan, config, sandbox.credentials(), hooks)
        log.info("bulkops.sandbox.finished", **world.summary())
    return summary


async def _run(
    plan: Plan, config: RunConfig, credentials: Credentials, hooks: RunHooks
) -> RunSummary:
    return await run_job(
        plan.job,
        config=config,
        credentials=credentials,
        results=plan.args.results,
        resume=plan.args.resume,
        hooks=hooks,
    )


def conclude(plan: Plan, summary: RunSummary) -> int:
    """Print the report and the summary line (and how to resume); returns the exit status.

    A run stopped before its first write (the pre-flight read could not reach the
    API, or the numbers could not be resolved) prints one line, why, and exits 3.
    """
    err = sys.stderr
    if not summary.reached:
        print(f"bulkops: error: {summary.aborted}", file=err)
        return Exit.ABORTED
    if summary.report is not None:
        err.write(render_text(summary.report))
    code = summary.exit_code
    if summary.aborted is not None:
        print(f"bulkops: run stopped: {summary.aborted}", file=err)
    print(f"bulkops: {summary.line()}", file=err)
    if any(outcome is Outcome.FAILED for outcome, _ in summary.counts):
        print(
            f"bulkops: failed rows, as a job to run again: {failed_path(summary.results)}",
            file=err,
        )
    if code in (Exit.INTERRUPTED, Exit.ABORTED):
        args = plan.args
        again = ["bulkops", "run", args.job, "--results", str(summary.results), "--resume"]
        if args.op:
            again += ["--op", args.op]
        print(f"bulkops: to finish the job, run: {shlex.join(again)}", file=err)
    return code
