"""The engine: rows in, Twilio calls out, one result per row.

``concurrency`` workers pull rows from one :class:`~bulkops.engine.feed.Feed`
as they become free, wait for their sender's turn, and make each row's calls
through the :class:`~bulkops.engine.calls.CallLoop` (limits, retries). Each final
result goes to the journal the moment it is known. A 401 or a tripped failure
limit stops the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable

import anyio

from ..config import RunConfig
from ..errors import RunAborted
from ..model import InvalidRow, ItemResult, Op, Outcome, Row
from ..twilio.wire import build_request
from . import outcomes
from .brake import FailureBrake
from .calls import Abandoned, CallLoop
from .feed import Feed, SenderTurns
from .migration import Migration
from .ports import EngineHooks, Journal, SenderApi
from .records import RecordMaker, UtcClock, fetched_fields
from .trace import LimitTrace

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
        hooks: EngineHooks,
        skip: Collection[int] = frozenset(),
    ) -> None:
        self.config = config
        self._api = api
        self._journal = journal
        self._hooks = hooks
        self._log = hooks.log
        self._skip = skip
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
        feed = Feed(
            items,
            record=self._record,
            records=records,
            skip=self._skip,
            stopping=lambda: self.stopping,
        )
        rows = iter(feed)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._sync_journal)
                async with anyio.create_task_group() as workers:
                    for _ in range(self.config.concurrency):
                        workers.start_soon(self._worker, rows, calls, records, workers.cancel_scope)
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

    def _record(self, result: ItemResult) -> None:
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
        self, rows: Iterable[Row], calls: CallLoop, records: RecordMaker, scope: anyio.CancelScope
    ) -> None:
        for row in rows:
            turn = self._turns.take(row.sender_sid)  # before any await: file order per sender
            try:
                if turn.blocked:
                    await turn.wait()
                if self.stopping:
                    return  # taken but not started: no record, a resume runs it
                result = await self._process(row, calls, records)
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

    async def _process(self, row: Row, calls: CallLoop, records: RecordMaker) -> ItemResult:
        if row.op is Op.MIGRATE:
            return await Migration(row, calls, log=self._log, records=records).run()
        request = build_request(row.op, row.kind, row.service_sid, row.sender_sid)
        done = await calls.call(request, row.line, read_body=row.op is Op.FETCH)
        if done.error is None:
            verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[row.op]
        else:
            verdict = outcomes.for_error(row.op, done.error)
        extra = fetched_fields(row.op, done.reply, outcomes.FETCHED_FIELDS)
        return records.sent(row, verdict, [done], extra=extra)
