"""Run a job: the one place a run is wired, job file → engine → Twilio client → journal.

Before the first write, one read proves the connection (the pre-flight), then the numbers a job
names are resolved through the account's listings with the same client the engine uses
(:mod:`bulkops.prerun`); if either fails, nothing is sent.

:func:`run_job` is what ``bulkops run``, the end-to-end tests and the benchmark (through the
CLI) all call. It knows nothing of the sandbox or of displays: give it a base URL and
credentials (the sandbox's, or Twilio's), and :class:`RunHooks` to watch progress (an
:class:`~bulkops.engine.Observer`), keep the log or replace the clock.
"""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import anyio
from structlog.typing import FilteringBoundLogger

from .config import Credentials, RunConfig
from .engine import Engine, EngineClock, EngineHooks, NoObserver, Observer
from .errors import Exit, RunAborted, io_failure
from .jobs import Job, open_job
from .journal import (
    ResultJournal,
    RunReport,
    Tally,
    check_results_path,
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
from .prerun import Ready, get_ready

if TYPE_CHECKING:
    from .twilio.client import TwilioClient


@dataclass(frozen=True, slots=True)
class RunHooks:
    """How a run is watched and timed; the defaults watch nothing and use real time."""

    #: Where the run's events go; None: nowhere (a logger writing to a string).
    log: FilteringBoundLogger | None = None
    #: Told the rows to do, each result, each move of the limit and the account's figures.
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
    #: Listing calls made before the first write to resolve the numbers the job names.
    listing_calls: int = 0
    #: False when the run stopped before its first write: the pre-flight read could
    #: not reach the API or was refused (401), or the numbers the job names could not
    #: be resolved. :attr:`aborted` says why in one line; nothing was sent or recorded.
    reached: bool = True

    @classmethod
    def unreached(cls, results: Path, reason: str) -> RunSummary:
        """The summary of a run stopped before its first write: nothing sent or recorded."""
        return cls(results, MappingProxyType({}), 0.0, 0, reason, 0, None, reached=False)

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
        """One line a person can read: rows per outcome, duration, rate, results path, notes."""
        line = summary_line(Counter(self.counts), duration_s=self.duration_s, path=self.results)
        n = self.listing_calls
        notes = [f"{self.skipped_done:,} rows already done were skipped"] * bool(self.skipped_done)
        notes += [f"{n:,} listing call{'s' * (n != 1)} resolved the job's numbers first"] * bool(n)
        return line + (f" ({'; '.join(notes)})" if notes else "")


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
    :class:`~bulkops.jobs.Job` already opened. Before the first write the connection is proved
    and the numbers resolved (:mod:`bulkops.prerun`); if that cannot reach the API, gets a 401
    or fails for good, the summary says so (:attr:`RunSummary.reached` False) and nothing is
    sent or recorded. A number the account lacks is never sent: ``failed``/``sender_not_found``.

    ``results`` defaults to ``results/<job>-<UTC time>.jsonl``; with ``resume`` it must be
    given, and rows it records as succeeded or invalid are skipped. Writes
    ``<results>.summary.json`` at the end, with the concurrency limit over time. ``hooks`` say
    how the run is watched and timed (with ``handle_signals``, Ctrl-C drains the run; before the
    first write it stops it). A run stopped as a whole (401, a failure limit, the network gone,
    an I/O error) is returned with :attr:`RunSummary.aborted` set, not raised. Raises
    :class:`UsageError` for ``resume`` without ``results`` or a log that cannot be written, and
    :class:`JobFileError` for one that cannot be read.
    """
    if not isinstance(job, Job):
        job = open_job(job, default_op=config.default_op)
    check_results_path(results, resume=resume)
    path = Path(results) if results is not None else default_results_path(job.path)
    done = read_done_keys(path) if resume else DigestSet()
    fresh = not resume and (not path.exists() or path.stat().st_size == 0)
    run = _Run(job, config, credentials, hooks, done)
    from .twilio.client import TwilioClient  # here, so importing bulkops loads no aiohttp

    async with TwilioClient.open_for(config, credentials) as client:
        with run.signals():  # handled from the pre-flight read on
            try:  # the pre-flight read first, then the numbers resolved
                ready = await run.get_ready(client)
            except RunAborted as exc:  # unreachable, a 401, numbers not listed: nothing sent
                run.log.debug("bulkops.run.unreached", reason=exc.reason)
                return RunSummary.unreached(path, exc.reason)
            if ready is None:  # interrupted before the first write: nothing sent or recorded
                return RunSummary(path, MappingProxyType({}), 0.0, 0, None, run.interrupts, None)
            hooks.observer.on_start(max(job.rows_total - len(done), 0))
            started = time.monotonic()
            tally = Tally() if fresh else None  # a fresh log's report needs no second pass
            with ResultJournal(path, tally=tally, batched=True) as journal:
                if journal.repaired_bytes:
                    run.log.warning(
                        "bulkops.results.repaired", path=str(path), cut_bytes=journal.repaired_bytes
                    )
                await run.execute(journal, client, ready)
    duration_s = time.monotonic() - started
    report = report_of(tally, duration_s=duration_s) if tally else summarize(read_results(path))
    trace = run.engine.trace.to_json() if run.engine is not None else None  # the limit over time
    write_summary_json(report, path, concurrency=trace)
    return RunSummary(
        results=path,
        counts=MappingProxyType(dict(journal.counts)),
        duration_s=duration_s,
        skipped_done=run.skipped_done,
        aborted=run.aborted,
        interrupts=run.interrupts,
        report=report,
        listing_calls=ready.listing_calls,
    )


class _Run:
    """One run's parts while it executes, and what it leaves for the summary."""

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

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
        self.skipped_done = self.interrupts = 0
        self.aborted: str | None = None
        #: Set by the first signal: take no more rows (none, if before the first write).
        self.stopping = False
        #: What a signal stops: the engine once it runs, and the phase's cancel scope.
        self.engine: Engine | None = None
        self.scope: anyio.CancelScope | None = None

    async def get_ready(self, client: TwilioClient) -> Ready | None:
        """:func:`~bulkops.prerun.get_ready`; None when a signal stopped the run before it."""
        ready = None
        with anyio.CancelScope() as self.scope:
            ready = await get_ready(
                client, self.job, self.config, self.credentials, self.engine_hooks
            )
        return None if self.stopping else ready

    async def execute(self, journal: ResultJournal, client: TwilioClient, ready: Ready) -> None:
        """The engine over the ready rows; a stop of the whole run is kept in ``aborted``."""
        config, log = self.config, self.log
        log.info(
            "bulkops.run.started",
            base_url=config.base_url,
            concurrency=config.concurrency,
            rate_per_s=config.rate_per_s,
            results=str(journal.path),
            resuming_past=len(self.done),
        )
        engine = self.engine = Engine(
            config,
            client,
            journal,
            hooks=self.engine_hooks,
            skip=self.done,
            services=ready.services,
        )
        try:
            try:
                with anyio.CancelScope() as self.scope:
                    await engine.run(ready.rows)
            finally:
                self.skipped_done = engine.skipped_done
                ready.close()  # the job file, also if a bug escapes
        except RunAborted as exc:
            log.error("bulkops.run.aborted", reason=exc.reason)
            self.aborted = exc.reason
        except (OSError, BaseExceptionGroup) as exc:  # e.g. the disk filled up
            reason = io_failure(exc)
            if reason is None:
                raise  # a bug, not the world: with its traceback
            self.aborted = reason
            log.error("bulkops.run.failed", error=reason)
        log.info(
            "bulkops.run.finished",
            **{f"{o.value}.{d.value}": n for (o, d), n in journal.counts.items()},
        )

    @contextmanager
    def signals(self) -> Iterator[None]:
        """With ``handle_signals``, SIGINT/SIGTERM from the pre-flight read on: a first drains
        (no more rows, none before the first write; calls in flight get ``grace_s``), a
        second abandons the calls in flight at once."""
        if not self.handle_signals:
            yield
            return
        loop = asyncio.get_running_loop()
        for sig in self._SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig.name)
        try:
            yield
        finally:
            for sig in self._SIGNALS:
                loop.remove_signal_handler(sig)

    def _on_signal(self, name: str) -> None:
        self.interrupts += 1
        if self.interrupts == 1:
            self.log.warning(
                "bulkops.run.interrupted",
                signal=name,
                grace_s=self.config.grace_s,
                note="finishing calls in flight; press Ctrl-C again to abandon them",
            )
            self.stopping = True
            if self.engine is not None:
                self.engine.stop()
            asyncio.get_running_loop().call_later(self.config.grace_s, self._cancel)
        else:
            self.log.warning("bulkops.run.abandoned", signal=name)
            self._cancel()

    def _cancel(self) -> None:
        if self.scope is not None:
            self.scope.cancel()
