"""The engine: rows in, Twilio calls out, one result per row.

``concurrency`` workers pull rows from one :class:`~bulkops.engine.feed.Feed`
as they become free, wait for their sender's turn (and for it to settle, see
:mod:`.settle`), and run each row (:class:`~bulkops.engine.rows.RowRunner`)
through the :class:`~bulkops.engine.calls.CallLoop` (limits, retries). Each final
result goes to the journal the moment it is known; at the end, senders with a
write that may have landed unanswered are read back. A 401, a network that is
gone or a tripped failure limit stops the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping

import anyio

from ..config import RunConfig
from ..errors import RunAborted
from ..model import InvalidRow, ItemResult, Row
from .actions import SenderActions
from .brake import FailureBrake
from .calls import Abandoned, CallLoop
from .directory import ServiceDirectory
from .feed import Feed, SenderTurns
from .ports import EngineHooks, Journal, SenderApi
from .records import RecordMaker, UtcClock
from .rows import RowRunner
from .services import ServiceFacts
from .settle import Settler
from .trace import LimitTrace

#: Seconds between fsyncs of the journal while a run is quiet (real time: it is about the disk).
SYNC_INTERVAL_S = 1.0


class Engine:
    """Runs the rows of one job against a :class:`~bulkops.engine.ports.SenderApi`.

    ``skip`` holds the key digests of rows a resumed log already records as
    done (see :func:`bulkops.journal.read_done_keys`); they get no record.
    ``services`` maps services already read (the pre-flight's) to whether they exist.
    """

    def __init__(  # noqa: PLR0913 - the run's parts, then keyword-only choices
        self,
        config: RunConfig,
        api: SenderApi,
        journal: Journal,
        *,
        hooks: EngineHooks,
        skip: Collection[int] = frozenset(),
        services: Mapping[str, bool] | None = None,
    ) -> None:
        self.config = config
        self._api = api
        self._journal = journal
        self._hooks = hooks
        self._log = hooks.log
        self._skip = skip
        self._services = services or {}
        self._brake = FailureBrake(
            max_failures=config.max_failures,
            max_failure_rate=config.max_failure_rate,
            window_rows=config.failure_window_rows,
        )
        self._braking = config.max_failures is not None or config.max_failure_rate is not None
        self._turns = SenderTurns()
        #: Why the run stopped early, if it did.
        self.abort: RunAborted | None = None
        #: Set by :meth:`stop`: no more rows are taken; retries between attempts give up.
        self.stopping = False
        #: Rows not run because ``skip`` said they were already done (a resume).
        self.skipped_done = 0
        #: The concurrency limit over the run (its figures once :meth:`run` returns).
        self.trace = LimitTrace(0.0)

    def stop(self) -> None:
        """Take no more rows; rows already started finish and are recorded."""
        self.stopping = True

    async def run(self, items: Iterable[Row | InvalidRow]) -> None:
        """Process every item; raises :class:`RunAborted` if the run had to stop."""
        clock = self._hooks.clock
        monotonic = clock.monotonic or asyncio.get_running_loop().time
        records = RecordMaker(monotonic, clock.timestamp or UtcClock())
        calls = CallLoop(
            self._api,
            self.config,
            hooks=self._hooks,
            monotonic=monotonic,
            stopping=lambda: self.stopping,
        )
        self.trace = calls.trace
        facts = ServiceFacts(calls, self._services)
        actions = SenderActions(calls, records, ServiceDirectory(calls), facts)
        feed = Feed(
            items,
            record=self._record,
            records=records,
            skip=self._skip,
            stopping=lambda: self.stopping,
        )
        runner = RowRunner(actions, log=self._log)
        settler = Settler(
            runner,
            record=self._record,
            settle_s=self.config.settle_s,
            monotonic=monotonic,
            sleep=clock.sleep,
        )
        rows = iter(feed)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._sync_journal)
                async with anyio.create_task_group() as workers:
                    for _ in range(self.config.concurrency):
                        workers.start_soon(
                            self._worker, rows, runner, settler, workers.cancel_scope
                        )
                await self._finish(settler)
                group.cancel_scope.cancel()
        finally:
            self.skipped_done = feed.skipped_done
            calls.finish_trace()
        if self.abort is not None:
            raise self.abort

    async def _sync_journal(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            self._journal.sync_if_due()

    async def _finish(self, settler: Settler) -> None:
        """Read back the unsettled senders, unless the run is stopping (a resume does them)."""
        if self.stopping or not settler.unsettled:
            return
        self._log.info("bulkops.settle.started", senders=settler.unsettled)
        try:
            await settler.finish()
        except* Abandoned:
            pass  # stopped while settling: those rows have no record, a resume runs them
        except* RunAborted as group:
            self.abort = self.abort or group.exceptions[0]  # type: ignore[assignment]

    def _record(self, result: ItemResult, replaces: ItemResult | None = None) -> None:
        if replaces is not None:  # this run recorded the row before: count it once
            self._journal.record(result, replaces=replaces)
            return
        self._journal.record(result)
        self.trace.rows += 1
        self._hooks.observer.on_result(result)
        if not self._braking:
            return
        reason = self._brake.observe(result.outcome)
        if reason is not None and self.abort is None:
            self.abort = RunAborted(reason)
            self.stop()

    async def _worker(
        self, rows: Iterable[Row], runner: RowRunner, settler: Settler, scope: anyio.CancelScope
    ) -> None:
        for row in rows:
            turn = self._turns.take(row.identity)  # before any await: file order per sender
            try:
                if turn.blocked:
                    await turn.wait()
                if settler.unsettled and not self.stopping:
                    await settler.before(row)
                if self.stopping:
                    return  # taken but not started: no record, a resume runs it
                result = settler.after(row, await runner.run(row))
            except Abandoned:
                continue
            except RunAborted as exc:
                self.abort = exc
                self.stop()
                scope.cancel()
                return
            finally:
                turn.done()
            if result is not None:
                self._record(result)
