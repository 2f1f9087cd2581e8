"""The engine: rows in, Twilio calls out, one result per row.

``concurrency`` workers pull rows from one :class:`~bulkops.engine.feed.Feed`
as they become free, wait for their sender's turn, and make each row's calls
through the :class:`~bulkops.engine.calls.CallLoop` (limits, retries). Each final
result goes to the journal the moment it is known. A 401 or a tripped failure
limit stops the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

import anyio
from structlog.typing import FilteringBoundLogger

from ..config import RunConfig
from ..errors import RunAborted
from ..model import Detail, InvalidRow, ItemResult, Op, Outcome, Row
from ..twilio.wire import build_request
from . import outcomes
from .brake import FailureBrake
from .calls import Abandoned, CallLoop
from .feed import Feed, SenderTurns
from .migration import Migration
from .ports import EngineClock, Journal, NoObserver, Observer, SenderApi
from .records import CallReport, UtcClock, fetched_fields, row_result

#: Seconds between fsyncs of the journal while a run is quiet (real time: it is about the disk).
SYNC_INTERVAL_S = 1.0


class Engine:
    """Runs the rows of one job against a :class:`~bulkops.engine.ports.SenderApi`.

    ``skip`` holds the key digests of rows a resumed log already records as
    done (see :func:`bulkops.journal.read_done_keys`); they get no record.
    """

    def __init__(
        self,
        config: RunConfig,
        api: SenderApi,
        journal: Journal,
        *,
        log: FilteringBoundLogger,
        skip: Collection[int] = frozenset(),
        observer: Observer | None = None,
        clock: EngineClock | None = None,
    ) -> None:
        self.config = config
        self._api = api
        self._journal = journal
        self._log = log
        self._skip = skip
        self._observer = observer or NoObserver()
        self._clock = clock or EngineClock()
        self._timestamp = self._clock.timestamp or UtcClock()
        self._brake = FailureBrake(
            max_failures=config.max_failures,
            max_failure_rate=config.max_failure_rate,
            window_rows=config.failure_window_rows,
        )
        self._turns = SenderTurns()
        self._monotonic: Callable[[], float] = self._clock.monotonic or time.monotonic
        #: Why the run stopped early, if it did.
        self.abort: RunAborted | None = None
        #: Set by :meth:`stop`: no more rows are taken; retries between attempts give up.
        self.stopping = False
        #: Rows not run because ``skip`` said they were already done (a resume).
        self.skipped_done = 0

    def stop(self) -> None:
        """Take no more rows; rows already started finish and are recorded."""
        self.stopping = True

    async def run(self, items: Iterable[Row | InvalidRow]) -> None:
        """Process every item; raises :class:`RunAborted` if the run had to stop."""
        if self._clock.monotonic is None:
            self._monotonic = asyncio.get_running_loop().time
        calls = CallLoop(
            self._api,
            self.config,
            log=self._log,
            clock=self._clock,
            monotonic=self._monotonic,
            observer=self._observer,
            stopping=lambda: self.stopping,
        )
        feed = Feed(
            items,
            record=self._record,
            timestamp=self._timestamp,
            skip=self._skip,
            stopping=lambda: self.stopping,
        )
        rows = iter(feed)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._sync_journal)
                async with anyio.create_task_group() as workers:
                    for _ in range(self.config.concurrency):
                        workers.start_soon(self._worker, rows, calls, workers.cancel_scope)
                group.cancel_scope.cancel()
        finally:
            self.skipped_done = feed.skipped_done
        if self.abort is not None:
            raise self.abort

    async def _sync_journal(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            self._journal.sync_if_due()

    def _record(self, result: ItemResult) -> None:
        self._journal.record(result)
        self._observer.on_result(result)
        reason = self._brake.observe(result.outcome)
        if reason is not None and self.abort is None:
            self.abort = RunAborted(reason)
            self.stop()

    async def _worker(self, rows: Iterable[Row], calls: CallLoop, scope: anyio.CancelScope) -> None:
        for row in rows:
            turn = self._turns.take(row.sender_sid)  # before any await: file order per sender
            try:
                await turn.wait()
                if self.stopping:
                    return  # taken but not started: no record, a resume runs it
                result = await self._process(row, calls)
            except Abandoned:
                continue
            except RunAborted as exc:
                self.abort = exc
                self.stop()
                scope.cancel()
                return
            finally:
                turn.done()
            self._record(result)

    async def _process(self, row: Row, calls: CallLoop) -> ItemResult:
        if row.op is Op.MIGRATE:
            return await Migration(row, calls, log=self._log, result=self._result).run()
        request = build_request(row.op, row.kind, row.service_sid, row.sender_sid)
        done = await calls.call(request, row.line)
        if done.error is None:
            outcome, detail = Outcome.SUCCEEDED, outcomes.SUCCESS[row.op]
        else:
            outcome, detail = outcomes.for_error(row.op, done.error)
        extra = fetched_fields(row.op, done.reply, outcomes.FETCHED_FIELDS)
        return self._result(row, outcome, detail, [done], extra=extra)

    def _result(
        self,
        row: Row,
        outcome: Outcome,
        detail: Detail,
        calls: list[CallReport],
        *,
        extra: dict[str, Any] | None = None,
        reason: CallReport | None = None,
    ) -> ItemResult:
        return row_result(
            row,
            outcome,
            detail,
            calls,
            now_s=self._monotonic(),
            finished_at=self._timestamp(),
            extra=extra,
            reason=reason,
        )
