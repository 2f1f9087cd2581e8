"""``bulkops run``: from flags to a finished, journaled run.

Builds the one :class:`~bulkops.config.RunConfig`, opens the job and the
journal, starts the embedded sandbox when asked, runs the engine under signal
handlers (first Ctrl-C drains, a second abandons), and reports.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

import anyio
from structlog.typing import FilteringBoundLogger

from .. import jobs
from ..config import Credentials, RunConfig, resolve_base_url
from ..engine.engine import Engine
from ..errors import Exit, RunAborted, UsageError
from ..journal import summary as report
from ..journal.writer import (
    ResultJournal,
    default_results_path,
    failed_path,
    read_done_keys,
    summary_line,
)
from ..keys import DigestSet, key_digest
from ..logs import make_logger
from ..model import InvalidRow, Op, Outcome, Row
from ..sandbox import LoadProfile, Sandbox, World
from ..sandbox import cli as sandbox_cli
from ..twilio.client import TwilioClient
from .progress import Progress, count_lines


def open_job(path: str, default_op: Op | None) -> tuple[jobs.JobScan, Iterator[Row | InvalidRow]]:
    """Check the file as a whole, then return what the check saw and the rows.

    Raises JobFileError up front, before any request.
    """
    scanned = jobs.scan(path)
    rows = jobs.iter_job(path, default_op=default_op)
    first = next(rows, None)  # reads the header: a bad one raises here
    return scanned, (rows if first is None else chain([first], rows))


def config_from_args(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        default_op=Op(args.op) if args.op else None,
        concurrency=args.concurrency,
        rate_per_s=args.rate,
        max_attempts=args.max_attempts,
        timeout_s=args.timeout,
        max_failures=args.max_failures,
        max_failure_rate=args.max_failure_rate,
        grace_s=args.grace,
    )


@dataclass
class _Run:
    """The parts of one run, built by :func:`cmd_run`, and what it leaves for the summary."""

    items: Iterable[Row | InvalidRow]
    journal: ResultJournal
    log: FilteringBoundLogger
    #: Digests of the rows a resumed log already records as done.
    done: DigestSet
    progress: Progress
    #: How many SIGINT/SIGTERM arrived.
    interrupts: int = 0
    #: Rows skipped because ``done`` has them.
    skipped_done: int = 0


def _report(results: Path, *, duration_s: float | None) -> None:
    """The summary table on stderr and as JSON beside the results."""
    if not results.exists():
        return
    summary = report.summarize(report.read_results(results), duration_s=duration_s)
    report.write_summary_json(summary, results)
    sys.stderr.write(report.render_text(summary))


def cmd_run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    scanned, items = open_job(args.job, config.default_op)
    if args.dry_run:
        return dry_run(args.job, items)
    stopped = ""
    if args.resume and not args.results:
        raise UsageError("--resume needs --results PATH: the result log of the run to resume")
    load: LoadProfile | None = None
    credentials: Credentials | None = None
    if args.sandbox:
        if args.base_url:
            raise UsageError("--sandbox and --base-url exclude each other")
        try:
            load = sandbox_cli.load_profile_from_args(args)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        if sandbox_cli.load_profile_from_args(args) != LoadProfile():
            raise UsageError("the sandbox load and fault flags only apply with --sandbox")
        credentials = Credentials.from_env()
        config = replace(config, base_url=resolve_base_url(args.base_url))
    results = Path(args.results) if args.results else default_results_path(args.job)
    done = read_done_keys(results) if args.resume else DigestSet()
    # The run's own clock times the report only when the log holds this run alone.
    fresh = not args.resume and (not results.exists() or results.stat().st_size == 0)
    total = count_lines(args.job, scanned=scanned)
    progress = Progress.start(
        None if total is None else max(total - len(done), 0), quiet=args.quiet
    )
    log = make_logger(
        json_format=args.log_format == "json",
        verbose=args.verbose,
        secrets=credentials.secrets if credentials else (),
        stream=progress.log_stream(sys.stderr),
    )
    progress.set_ceiling(config.concurrency)
    started = time.monotonic()
    code = Exit.OK
    with progress, ResultJournal(results) as journal:
        if journal.repaired_bytes:
            log.warning(
                "bulkops.results.repaired", path=str(results), cut_bytes=journal.repaired_bytes
            )
        run = _Run(items, journal, log, done, progress)
        try:
            asyncio.run(_main(run, args.job, config, credentials, load))
        except RunAborted as exc:
            log.error("bulkops.run.aborted", reason=exc.reason)
            stopped = exc.reason
            code = Exit.ABORTED
        except KeyboardInterrupt:
            run.interrupts = max(run.interrupts, 1)
        except (OSError, BaseExceptionGroup) as exc:  # e.g. the disk filled up
            first = exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else exc
            log.error("bulkops.run.failed", error=f"{type(first).__name__}: {first}")
            stopped = f"{type(first).__name__}: {first}"
            code = Exit.ABORTED
    if run.interrupts and code == Exit.OK:
        code = Exit.INTERRUPTED
    elif code == Exit.OK and any(o is not Outcome.SUCCEEDED for o, _ in journal.counts):
        code = Exit.FAILED
    duration_s = time.monotonic() - started
    _report(results, duration_s=duration_s if fresh else None)
    if code == Exit.ABORTED:
        print(f"bulkops: run stopped: {stopped}", file=sys.stderr)
    line = summary_line(journal.counts, duration_s=duration_s, path=results)
    if run.skipped_done:
        line += f" ({run.skipped_done:,} rows already done were skipped)"
    print("bulkops: " + line, file=sys.stderr)
    if any(o is Outcome.FAILED for o, _ in journal.counts):
        print(
            f"bulkops: failed rows, as a job to run again: {failed_path(results)}", file=sys.stderr
        )
    if code in (Exit.INTERRUPTED, Exit.ABORTED):
        again = ["bulkops", "run", args.job, "--results", str(results), "--resume"]
        if args.op:
            again += ["--op", args.op]
        print(f"bulkops: to finish the job, run: {shlex.join(again)}", file=sys.stderr)
    return code


async def _main(
    run: _Run,
    job: str,
    config: RunConfig,
    credentials: Credentials | None,
    load: LoadProfile | None,
) -> None:
    """Run against the configured API, or (no credentials) against an embedded sandbox."""
    if credentials is not None:
        await _execute(run, config, credentials)
        return
    log = run.log
    world = World()
    sandbox_cli.seed_from_job(world, job, default_op=config.default_op or Op.FETCH, stage=True)
    async with Sandbox(world=world, load=load) as sandbox:
        local = Credentials(sandbox.account_sid, sandbox.auth_token, sandbox.account_sid)
        log.info("bulkops.sandbox.started", base_url=sandbox.base_url, **world.summary())
        config = replace(config, base_url=sandbox.base_url)
        await _execute(run, config, local)
        log.info("bulkops.sandbox.finished", **world.summary())


async def _execute(run: _Run, config: RunConfig, credentials: Credentials) -> None:
    """The engine over the job, under signal handlers: first signal drains, second abandons."""
    log, journal = run.log, run.journal
    log.info(
        "bulkops.run.started",
        base_url=config.base_url,
        concurrency=config.concurrency,
        rate_per_s=config.rate_per_s,
        results=str(journal.path),
        resuming_past=len(run.done),
    )
    async with TwilioClient.open_for(config, credentials) as client:
        progress = run.progress
        engine = Engine(
            config, client, journal, log=log, skip=run.done,
            on_result=lambda result: progress.advance(result.outcome.value),
            on_limit=progress.set_ceiling,
        )  # fmt: skip
        with anyio.CancelScope() as scope:
            loop = asyncio.get_running_loop()

            def on_signal(name: str) -> None:
                run.interrupts += 1
                if run.interrupts == 1:
                    log.warning(
                        "bulkops.run.interrupted",
                        signal=name,
                        grace_s=config.grace_s,
                        note="finishing calls in flight; press Ctrl-C again to abandon them",
                    )
                    engine.stop()
                    loop.call_later(config.grace_s, scope.cancel)
                else:
                    log.warning("bulkops.run.abandoned", signal=name)
                    scope.cancel()

            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, on_signal, sig.name)
            try:
                await engine.run(run.items)
            finally:
                run.skipped_done = engine.skipped_done
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
    log.info(
        "bulkops.run.finished",
        **{f"{o.value}.{d.value}": n for (o, d), n in journal.counts.items()},
    )


def dry_run(job: str, items: Iterator[Row | InvalidRow]) -> int:
    """Print the call each valid row would make; invalid and repeated rows go to stderr."""
    out, err = sys.stdout, sys.stderr
    valid = invalid = repeated = 0
    seen = DigestSet()
    for item in items:
        if isinstance(item, InvalidRow):
            invalid += 1
            print(f"{job}:{item.line}: invalid: {item.problem}", file=err)
            continue
        if not seen.add(key_digest(item.key)):
            repeated += 1
            print(f"{job}:{item.line}: duplicate of an earlier row: not sent", file=err)
            continue
        valid += 1
        base = f"/v1/Services/{item.service_sid}/{item.kind.collection}"
        if item.op is Op.ATTACH:
            out.write(f"{item.line}\tPOST {base}\t{item.kind.create_param}={item.sender_sid}\n")
        elif item.op is Op.MIGRATE:
            src = f"/v1/Services/{item.from_service_sid}/{item.kind.collection}"
            out.write(
                f"{item.line}\tDELETE {src}/{item.sender_sid}; then POST {base}\t"
                f"{item.kind.create_param}={item.sender_sid}\n"
            )
        else:
            method = "DELETE" if item.op is Op.DETACH else "GET"
            out.write(f"{item.line}\t{method} {base}/{item.sender_sid}\n")
    print(
        f"bulkops: dry run: {valid:,} rows would be sent, {invalid:,} invalid, "
        f"{repeated:,} duplicates; nothing was sent",
        file=err,
    )
    return Exit.FAILED if invalid or repeated else Exit.OK
