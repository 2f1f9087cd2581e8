"""Run a job: the one place a run is wired, job file → engine → Twilio client → journal.

:func:`run_job` is what ``bulkops run``, the end-to-end tests and the benchmark
(through the CLI) all call. It knows nothing of the sandbox or of displays:
give it a base URL and credentials (the sandbox's, or Twilio's), and
:class:`RunHooks` to watch progress (an :class:`~bulkops.engine.Observer`),
keep the log or replace the clock.
"""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import anyio
from structlog.typing import FilteringBoundLogger

from .config import Credentials, RunConfig
from .engine import Engine, EngineClock, EngineHooks, NoObserver, Observer
from .errors import Exit, RunAborted, UsageError
from .jobs import Job, open_job
from .journal import (
    ResultJournal,
    RunReport,
    Tally,
    default_results_path,
    read_done_keys,
    read_results,
    report_of,
    summarize,
    summary_line,
    write_summary_json,
)
from .keys import DigestSet
from .logs import make_logger
from .model import Detail, Outcome
from .twilio.client import TwilioClient


@dataclass(frozen=True, slots=True)
class RunHooks:
    """How a run is watched and timed; the defaults watch nothing and use real time."""

    #: Where the run's events go; None: nowhere (a logger writing to a string).
    log: FilteringBoundLogger | None = None
    #: Told the rows to do, each final result and each move of the concurrency limit.
    observer: Observer = field(default_factory=NoObserver)
    #: The engine's sleep, clocks and jitter; tests replace it so nothing waits for real.
    clock: EngineClock = field(default_factory=EngineClock)
    #: A first SIGINT/SIGTERM stops taking rows and gives calls in flight
    #: ``config.grace_s`` seconds; a second abandons them.
    handle_signals: bool = False


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one run did, and how it ended."""

    #: The result log the run appended to.
    results: Path
    #: Records this run wrote, by (outcome, detail).
    counts: Mapping[tuple[Outcome, Detail], int]
    #: Seconds from the first row to the last (monotonic clock).
    duration_s: float
    #: Rows not run because the resumed log already had them done.
    skipped_done: int
    #: Why the run stopped as a whole (401, a failure limit, a disk error); None if it did not.
    aborted: str | None
    #: SIGINT/SIGTERM received (only with :attr:`RunHooks.handle_signals`).
    interrupts: int
    #: The whole result log summarised (over every run of a resumed log).
    report: RunReport | None

    @property
    def exit_code(self) -> Exit:
        """:class:`Exit` as ``bulkops run`` returns it."""
        if self.aborted is not None:
            return Exit.ABORTED
        if self.interrupts:
            return Exit.INTERRUPTED
        if any(outcome is not Outcome.SUCCEEDED for outcome, _ in self.counts):
            return Exit.FAILED
        return Exit.OK

    def line(self) -> str:
        """One line a person can read: rows per outcome, duration, rate, results path."""
        line = summary_line(Counter(self.counts), duration_s=self.duration_s, path=self.results)
        if self.skipped_done:
            line += f" ({self.skipped_done:,} rows already done were skipped)"
        return line


async def run_job(  # noqa: PLR0913 - public entry point; each keyword is an independent choice
    job: str | Path | Job,
    *,
    config: RunConfig,
    credentials: Credentials,
    results: str | Path | None = None,
    resume: bool = False,
    hooks: RunHooks = RunHooks(),
) -> RunSummary:
    """Run every row of ``job`` against ``config.base_url``; record each in ``results``.

    ``job`` is a path (checked whole first: raises :class:`JobFileError`) or a
    :class:`~bulkops.jobs.Job` already opened. ``results`` defaults to
    ``results/<job>-<UTC time>.jsonl``; with ``resume`` it must be given, and rows
    it records as succeeded or invalid are skipped. Writes
    ``<results>.summary.json`` at the end, with the run's concurrency limit over
    time. ``hooks`` say how the run is watched and timed (with
    ``handle_signals``, Ctrl-C drains the run). A run stopped as a whole (401, a
    failure limit, an I/O error) is returned with :attr:`RunSummary.aborted` set,
    not raised. Raises :class:`UsageError` for
    ``resume`` without ``results`` or a result log that cannot be written.
    """
    if not isinstance(job, Job):
        job = open_job(job, default_op=config.default_op, kind=config.kind)
    if resume and results is None:
        raise UsageError("--resume needs --results PATH: the result log of the run to resume")
    path = Path(results) if results is not None else default_results_path(job.path)
    done = read_done_keys(path) if resume else DigestSet()
    fresh = not resume and (not path.exists() or path.stat().st_size == 0)
    hooks.observer.on_start(max(job.rows_total - len(done), 0))
    run = _Run(job, config, credentials, hooks, done)
    started = time.monotonic()
    tally = Tally() if fresh else None  # a fresh log's report needs no second pass
    with ResultJournal(path, tally=tally) as journal:
        if journal.repaired_bytes:
            run.log.warning(
                "bulkops.results.repaired", path=str(path), cut_bytes=journal.repaired_bytes
            )
        await run.execute(journal)
    duration_s = time.monotonic() - started
    if tally is not None:
        report = report_of(tally, duration_s=duration_s)
    else:
        report = summarize(read_results(path))
    write_summary_json(report, path, concurrency=run.concurrency)
    return RunSummary(
        results=path,
        counts=MappingProxyType(dict(journal.counts)),
        duration_s=duration_s,
        skipped_done=run.skipped_done,
        aborted=run.aborted,
        interrupts=run.interrupts,
        report=report,
    )


class _Run:
    """One run's parts while it executes, and what it leaves for the summary."""

    def __init__(
        self,
        job: Job,
        config: RunConfig,
        credentials: Credentials,
        hooks: RunHooks,
        done: DigestSet,
    ) -> None:
        self.job, self.config, self.credentials, self.done = job, config, credentials, done
        self.handle_signals = hooks.handle_signals
        self.log = hooks.log or make_logger(stream=io.StringIO())
        self.engine_hooks = EngineHooks(log=self.log, observer=hooks.observer, clock=hooks.clock)
        self.skipped_done = 0
        self.interrupts = 0
        self.aborted: str | None = None
        #: The limit over the run, as the summary JSON keeps it.
        self.concurrency: dict[str, Any] | None = None

    async def execute(self, journal: ResultJournal) -> None:
        """The engine over the job's rows; a stop of the whole run is kept in ``aborted``."""
        config, log = self.config, self.log
        log.info(
            "bulkops.run.started",
            base_url=config.base_url,
            concurrency=config.concurrency,
            rate_per_s=config.rate_per_s,
            results=str(journal.path),
            resuming_past=len(self.done),
        )
        try:
            async with TwilioClient.open_for(config, self.credentials) as client:
                engine = Engine(config, client, journal, hooks=self.engine_hooks, skip=self.done)
                try:
                    with anyio.CancelScope() as scope:
                        if self.handle_signals:
                            self._handle_signals(engine, scope)
                        await engine.run(self.job.rows())
                finally:
                    self.skipped_done = engine.skipped_done
                    self.concurrency = engine.trace.to_json()
                    if self.handle_signals:
                        _restore_signals()
        except RunAborted as exc:
            log.error("bulkops.run.aborted", reason=exc.reason)
            self.aborted = exc.reason
        except (OSError, BaseExceptionGroup) as exc:  # e.g. the disk filled up
            first = exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else exc
            self.aborted = f"{type(first).__name__}: {first}"
            log.error("bulkops.run.failed", error=self.aborted)
        log.info(
            "bulkops.run.finished",
            **{f"{o.value}.{d.value}": n for (o, d), n in journal.counts.items()},
        )

    def _handle_signals(self, engine: Engine, scope: anyio.CancelScope) -> None:
        """First SIGINT/SIGTERM drains (``grace_s`` for calls in flight), a second abandons."""
        loop = asyncio.get_running_loop()

        def on_signal(name: str) -> None:
            self.interrupts += 1
            if self.interrupts == 1:
                self.log.warning(
                    "bulkops.run.interrupted",
                    signal=name,
                    grace_s=self.config.grace_s,
                    note="finishing calls in flight; press Ctrl-C again to abandon them",
                )
                engine.stop()
                loop.call_later(self.config.grace_s, scope.cancel)
            else:
                self.log.warning("bulkops.run.abandoned", signal=name)
                scope.cancel()

        for sig in _SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig.name)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _restore_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        loop.remove_signal_handler(sig)
