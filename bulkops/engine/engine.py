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
from ..model import InvalidRow, ItemResult, Op, Row
from .actions import SenderActions
from .brake import FailureBrake
from .calls import Abandoned, CallLoop
from .directory import ServiceDirectory
from .feed import Feed, SenderTurns
from .migration import migration_for
from .ports import EngineHooks, Journal, SenderApi
from .records import RecordMaker, UtcClock

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
        self._turns = SenderTurns()
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
        actions = SenderActions(calls, records, ServiceDirectory(calls))
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
                        workers.start_soon(self._worker, rows, actions, workers.cancel_scope)
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
        self._hooks.observer.on_result(result)
        reason = self._brake.observe(result.outcome)
        if reason is not None and self.abort is None:
            self.abort = RunAborted(reason)
            self.stop()

    async def _worker(
        self, rows: Iterable[Row], actions: SenderActions, scope: anyio.CancelScope
    ) -> None:
        for row in rows:
            turn = self._turns.take(row.identity)  # before any await: file order per sender
            try:
                await turn.wait()
                if self.stopping:
                    return  # taken but not started: no record, a resume runs it
                result = await self._process(row, actions)
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

    async def _process(self, row: Row, actions: SenderActions) -> ItemResult:
        if row.op is Op.MIGRATE:
            move = migration_for(row)(
                row,
                actions.calls,
                log=self._log,
                records=actions.records,
                directory=actions.directory,
            )
            return await move.run()
        return await actions.run(row)
