"""The engine: rows in, Twilio calls out, one result per row.

``concurrency`` workers pull rows from the job's reader as they become free (the
reader is a generator, so nothing is read ahead and memory stays flat),
wait for the :class:`~bulkops.limits.ConcurrencyWindow` and the
:class:`~bulkops.limits.RateGate`, call the API and retry transient failures
with :class:`~bulkops.retry.Backoff`. Each final result goes to the journal the
moment it is known. Rows already done (``skip``) get no record; a row repeating
an earlier row is recorded ``skipped``/``duplicate``; two calls for the same
sender are never in flight at once. A 401 or a tripped failure limit stops the run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from structlog.typing import FilteringBoundLogger

from ..config import RunConfig
from ..errors import ApiError, AuthenticationError, RunAborted, ThrottledError, TransientError
from ..keys import DigestSet, key_digest
from ..model import Detail, InvalidRow, ItemResult, Op, Outcome, Row
from ..retry import Backoff
from ..twilio.client import Reply
from . import outcomes
from .adaptive import AimdController, Ticket
from .brake import FailureBrake
from .limits import ConcurrencyWindow, RateGate


class SenderApi(Protocol):
    """The calls the engine makes; :class:`~bulkops.client.TwilioClient` is one."""

    async def attach(self, service_sid: str, sender_sid: str) -> Reply: ...
    async def detach(self, service_sid: str, sender_sid: str) -> Reply: ...
    async def fetch(self, service_sid: str, sender_sid: str) -> Reply: ...


class Journal(Protocol):
    """Where final results go; :class:`~bulkops.results.ResultJournal` is one."""

    def record(self, result: ItemResult) -> None: ...
    def sync_if_due(self) -> None: ...


_second: list[Any] = [-1, ""]  # the last whole second formatted, reused within it


def utc_timestamp() -> str:
    """Now in UTC, ISO 8601 with milliseconds, e.g. ``2026-11-23T12:49:17.735Z``."""
    now = time.time()
    whole = int(now)
    if whole != _second[0]:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int((now - whole) * 1000):03d}Z"


def invalid_result(row: InvalidRow, *, finished_at: str) -> ItemResult:
    """The record of a row that failed validation."""
    return ItemResult(
        line=row.line,
        op=row.op,
        service_sid=row.service_sid,
        sender_sid=row.sender_sid,
        outcome=Outcome.INVALID,
        detail=Detail.INVALID_ROW,
        kind=row.kind,
        message=row.problem,
        finished_at=finished_at,
        from_service_sid=row.from_service_sid or None,
    )


@dataclass(slots=True)
class _Abandoned(Exception):
    """The run is stopping and this row's retries are given up; it gets no record."""


@dataclass(slots=True)
class _Call:
    """The last answer of one API call after its retries."""

    reply: Reply | None
    error: ApiError | None
    attempts: int
    throttled: int
    #: When the first attempt started (the engine's monotonic clock).
    started: float

    @property
    def status(self) -> int | None:
        return self.reply.status if self.reply else (self.error.status if self.error else None)

    def step(self, name: str) -> str:
        if self.error is None:
            return f"{name}:{self.status}"
        code = f"/{self.error.code}" if self.error.code else ""
        return f"{name}:{self.error.status or 'network'}{code}"


class Engine:
    """Runs the rows of one job against a :class:`SenderApi`."""

    def __init__(
        self,
        config: RunConfig,
        api: SenderApi,
        journal: Journal,
        *,
        log: FilteringBoundLogger,
        skip: Collection[int] = frozenset(),
        on_result: Callable[[ItemResult], None] | None = None,
        on_limit: Callable[[int], None] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] | None = None,
        timestamp: Callable[[], str] = utc_timestamp,
    ) -> None:
        """``monotonic`` defaults to the running loop's clock, the one ``sleep`` waits on."""
        self.config = config
        self._api = api
        self._journal = journal
        self._log = log
        self._skip = skip
        self._on_result = on_result
        self._on_limit = on_limit
        self._sleep = sleep
        self._rand = rand
        self._monotonic: Callable[[], float] = monotonic or time.monotonic
        self._timestamp = timestamp
        self._backoff = Backoff(
            initial_s=config.backoff_initial_s,
            cap_s=config.backoff_cap_s,
            max_attempts=config.max_attempts,
        )
        self._brake = FailureBrake(
            max_failures=config.max_failures,
            max_failure_rate=config.max_failure_rate,
            window_rows=config.failure_window_rows,
        )
        self._calls: dict[Op, Callable[[str, str], Awaitable[Reply]]] = {
            Op.ATTACH: api.attach,
            Op.DETACH: api.detach,
            Op.FETCH: api.fetch,
        }
        self._seen = DigestSet()
        #: Per sender, the event set when the last row handed out for it is done.
        self._last_for: dict[str, asyncio.Event] = {}
        # Loop-bound throttles are made in run(), inside the running loop.
        self._clock_given = monotonic is not None
        self.gate: RateGate | None = None
        self.window: ConcurrencyWindow | None = None
        self.throttle: AimdController | None = None
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
        if not self._clock_given:
            self._monotonic = asyncio.get_running_loop().time
        self.gate = RateGate(self.config.rate_per_s)
        self.throttle = AimdController(
            ceiling=self.config.concurrency,
            # Slow start from 16 (the default --concurrency): a run that asks for no
            # more starts at full width; a bolder one probes up from there.
            initial_limit=min(self.config.concurrency, 16),
            pause_cap_s=self.config.backoff_cap_s,
            # About one round trip: the cut answers the throttle, a long pause only
            # idles the account (0.1 s made a 20 ms-latency run 1.6x slower).
            pause_initial_s=min(0.02, self.config.backoff_cap_s),
            # Measured against a sandbox admitting 10 in flight (benchmarks/): 0.7
            # cycled 7→11 and used 69 % of the capacity, 0.85 cycles 9→11 and uses
            # 78 %, for 3.6 % of requests answered 429 instead of 2.4 %.
            decrease_factor=0.85,
            clock=self._monotonic,
        )
        self.window = ConcurrencyWindow(self.throttle.limit)
        rows = self._rows(items)
        async with anyio.create_task_group() as group:
            group.start_soon(self._sync_journal)
            async with anyio.create_task_group() as workers:
                for _ in range(self.config.concurrency):
                    workers.start_soon(self._worker, rows, workers.cancel_scope)
            group.cancel_scope.cancel()
        if self.abort is not None:
            raise self.abort

    async def _sync_journal(self) -> None:
        while True:  # real time, not the injected sleep: this is about the disk
            await asyncio.sleep(1.0)
            self._journal.sync_if_due()

    def _record(self, result: ItemResult) -> None:
        self._journal.record(result)
        if self._on_result is not None:
            self._on_result(result)
        reason = self._brake.observe(result.outcome)
        if reason is not None and self.abort is None:
            self.abort = RunAborted(reason)
            self.stop()

    def _rows(self, items: Iterable[Row | InvalidRow]) -> Iterator[Row]:
        """The rows to send, shared by the workers; the others are recorded on the way.

        Workers call ``next()`` only between calls and it never awaits, so one
        generator serves them all and no row is read before a worker is free.
        """
        for item in items:
            if self.stopping:
                return
            digest = key_digest(item.key)
            if digest in self._skip:
                self.skipped_done += 1
            elif isinstance(item, InvalidRow):  # before the duplicate check: bad rows
                self._record(invalid_result(item, finished_at=self._timestamp()))  # may look alike
            elif not self._seen.add(digest):
                self._record(self._duplicate(item))
            else:
                yield item

    def _duplicate(self, item: Row | InvalidRow) -> ItemResult:
        op = item.op.value if isinstance(item.op, Op) else item.op
        return ItemResult(
            line=item.line,
            op=op,
            service_sid=item.service_sid,
            sender_sid=item.sender_sid,
            outcome=Outcome.SKIPPED,
            detail=Detail.DUPLICATE,
            kind=item.kind,
            message="repeats an earlier row of this job; not sent",
            finished_at=self._timestamp(),
            from_service_sid=item.from_service_sid or None,
        )

    async def _worker(self, rows: Iterator[Row], scope: anyio.CancelScope) -> None:
        for row in rows:
            # Rows for one sender run one at a time, in file order: each waits for
            # the one handed out before it (taken here, before any await).
            sid = row.sender_sid
            before = self._last_for.get(sid)
            self._last_for[sid] = mine = asyncio.Event()
            try:
                if before is not None:
                    await before.wait()
                if self.stopping:
                    return  # taken but not started: no record, a resume runs it
                result = await self._process(row)
            except _Abandoned:
                continue
            except RunAborted as exc:
                self.abort = exc
                self.stop()
                scope.cancel()
                return
            finally:
                mine.set()
                if self._last_for.get(sid) is mine:
                    del self._last_for[sid]
            self._record(result)

    async def _call(
        self, op: Op, service_sid: str, sender_sid: str, line: int, *, abandonable: bool = True
    ) -> _Call:
        """One API call through the window and the gate, retried while transient.

        Once the run is stopping, an ``abandonable`` call gives up instead of
        retrying: nothing changed, and a resume will make it again.
        """
        assert self.window is not None and self.gate is not None and self.throttle is not None
        throttle = self.throttle
        call = self._calls[op]
        attempt = throttled = 0
        started = 0.0
        while True:
            attempt += 1
            async with self.window:
                while (pause_s := throttle.pause_remaining_s()) > 0:
                    await self._sleep(pause_s)  # the whole engine backs off together
                await self.gate.acquire()
                if self.stopping and abandonable:
                    raise _Abandoned  # stopped while it waited: the call never starts
                ticket = throttle.on_start()
                if attempt == 1:
                    started = self._monotonic()
                try:
                    reply = await call(service_sid, sender_sid)
                except AuthenticationError as exc:
                    raise RunAborted.bad_credentials(exc.code) from None
                except ApiError as exc:
                    error = exc
                    self._observe(ticket, exc)
                else:
                    self._observe(ticket, None)
                    return _Call(reply, None, attempt, throttled, started)
            throttled += isinstance(error, ThrottledError)
            if not self._backoff.should_retry(attempt, error):
                return _Call(None, error, attempt, throttled, started)
            if self.stopping and abandonable:
                raise _Abandoned
            if isinstance(error, ThrottledError):
                # The whole engine has backed off (smaller window, shared pause that
                # holds Retry-After and doubles while 429s keep coming); this row
                # just queues again behind that pause instead of a backoff of its own.
                wait_s = throttle.pause_remaining_s()
            else:
                wait_s = self._backoff.delay_s(
                    attempt, rand=self._rand(), retry_after_s=error.retry_after_s
                )
            self._log.debug(
                "bulkops.item.retry",
                line=line,
                op=op.value,
                attempt=attempt,
                status=error.status,
                code=error.code,
                wait_s=round(wait_s, 3),
            )
            await self._sleep(wait_s)

    def _observe(self, ticket: Ticket, error: ApiError | None) -> None:
        """Tell the AIMD controller how a call went; retune the window if it moved."""
        throttle = self.throttle
        assert throttle is not None and self.window is not None
        if isinstance(error, ThrottledError):
            if not throttle.on_throttle(ticket, error.retry_after_s):
                return
            event = "bulkops.throttle.decreased"
        elif isinstance(error, TransientError):
            throttle.on_transient_error(ticket)
            return
        elif throttle.on_success(ticket):  # a 4xx answer too: the account let it in
            event = "bulkops.throttle.increased"
        else:
            return
        self.window.retune(throttle.limit)
        self._log.debug(event, limit=throttle.limit, pause_s=round(throttle.pause_remaining_s(), 3))
        if self._on_limit is not None:
            self._on_limit(throttle.limit)

    async def _process(self, row: Row) -> ItemResult:
        if row.op is Op.MIGRATE:
            return await self._migrate(row)
        done = await self._call(row.op, row.service_sid, row.sender_sid, row.line)
        if done.error is None:
            outcome, detail = Outcome.SUCCEEDED, outcomes.SUCCESS[row.op]
        else:
            outcome, detail = outcomes.for_error(row.op, done.error)
        extra: dict[str, Any] = {}
        if row.op is Op.FETCH and done.reply is not None and isinstance(done.reply.body, dict):
            extra = {name: done.reply.body.get(name) for name in outcomes.FETCHED_FIELDS}
        return self._result(row, outcome, detail, [done], extra)

    async def _migrate(self, row: Row) -> ItemResult:
        """Detach from the source, attach to the target; put it back if the attach fails."""
        source = row.from_service_sid
        assert source is not None
        line = row.line
        detach = await self._call(Op.DETACH, source, row.sender_sid, line)
        calls = [detach]
        steps = {"steps": [detach.step("detach")]}
        if detach.error is not None and detach.error.status != 404:
            outcome, detail = outcomes.for_error(Op.DETACH, detach.error)
            return self._result(row, outcome, detail, calls, steps)
        # Once detached, the move runs to its end even if the run is stopping.
        moved = detach.error is None
        try:
            return await self._finish_migration(row, calls, steps, moved=moved)
        except (anyio.get_cancelled_exc_class(), RunAborted):
            self._log.error(
                "bulkops.migrate.interrupted",
                line=line,
                sender_sid=row.sender_sid,
                source=source,
                note="detached from the source, attach not confirmed: resume the run",
            )
            raise

    async def _finish_migration(
        self, row: Row, calls: list[_Call], steps: dict[str, list[str]], *, moved: bool
    ) -> ItemResult:
        source = row.from_service_sid
        assert source is not None
        attach = await self._call(
            Op.ATTACH, row.service_sid, row.sender_sid, row.line, abandonable=not moved
        )
        calls.append(attach)
        steps["steps"].append(attach.step("attach"))
        if attach.error is None or attach.error.code == 21710:
            return self._result(row, Outcome.SUCCEEDED, Detail.MIGRATED, calls, steps)
        if not moved and attach.error.code == 21712:  # in another service: not lost
            outcome, detail = outcomes.for_error(Op.ATTACH, attach.error)
            return self._result(row, outcome, detail, calls, steps)
        # Put it back in the source. Also after a 404 on the detach: that 404 may
        # answer our own earlier attempt (a timed-out detach that landed), so the
        # sender may be in no service at all.
        back = await self._call(Op.ATTACH, source, row.sender_sid, row.line, abandonable=False)
        steps["steps"].append(back.step("reattach"))
        if not moved and back.error is not None and back.error.code == 21712:
            # It was somewhere else all along: nothing to restore.
            outcome, detail = outcomes.for_error(Op.ATTACH, attach.error)
            return self._result(row, outcome, detail, [*calls, back], steps, attach)
        restored = back.error is None or back.error.code == 21710
        detail = Detail.ROLLED_BACK if restored else Detail.ROLLBACK_FAILED
        if not restored:
            self._log.error(
                "bulkops.migrate.rollback_failed",
                line=row.line,
                sender_sid=row.sender_sid,
                source=source,
                steps=steps["steps"],
            )
        # The record carries the attach's answer: the reason the move failed.
        return self._result(row, Outcome.FAILED, detail, [*calls, back], steps, attach)

    def _result(
        self,
        row: Row,
        outcome: Outcome,
        detail: Detail,
        calls: list[_Call],
        extra: dict[str, Any],
        reason: _Call | None = None,
    ) -> ItemResult:
        """The record of a row; the last call (or ``reason``) gives status, code, message."""
        last = reason or calls[-1]
        error = last.error
        return ItemResult(
            line=row.line,
            op=row.op.value,
            service_sid=row.service_sid,
            sender_sid=row.sender_sid,
            outcome=outcome,
            detail=detail,
            kind=row.kind,
            http_status=last.status,
            twilio_code=error.code if error is not None else None,
            message=error.message if error is not None else None,
            attempts=sum(c.attempts for c in calls),
            # From the first call's start: time spent queueing for a window slot or
            # the rate limit before it is the job's pace, not this row's latency.
            elapsed_ms=round((self._monotonic() - calls[0].started) * 1000, 1),
            finished_at=self._timestamp(),
            throttled=sum(c.throttled for c in calls),
            from_service_sid=row.from_service_sid,
            resource=extra,
        )
