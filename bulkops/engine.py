"""The engine: rows in, Twilio calls out, one result per row.

A reader feeds a bounded stream; ``concurrency`` workers take rows from it,
wait for the :class:`~bulkops.limits.ConcurrencyWindow` and the
:class:`~bulkops.limits.RateGate`, call the API and retry transient failures
with :class:`~bulkops.retry.Backoff`. Each final result goes to the journal the
moment it is known. A 401 aborts the run as a whole.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from structlog.typing import FilteringBoundLogger

from . import outcomes
from .client import Reply
from .config import RunConfig
from .errors import ApiError, AuthenticationError, RunAborted
from .limits import ConcurrencyWindow, RateGate
from .model import Detail, InvalidRow, ItemResult, Op, Outcome, Row
from .retry import Backoff


class SenderApi(Protocol):
    """The calls the engine makes; :class:`~bulkops.client.TwilioClient` is one."""

    async def attach(self, service_sid: str, sender_sid: str) -> Reply: ...
    async def detach(self, service_sid: str, sender_sid: str) -> Reply: ...
    async def fetch(self, service_sid: str, sender_sid: str) -> Reply: ...


class Journal(Protocol):
    """Where final results go; :class:`~bulkops.results.ResultJournal` is one."""

    def record(self, result: ItemResult) -> None: ...


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    )


class Engine:
    """Runs the rows of one job against a :class:`SenderApi`."""

    def __init__(
        self,
        config: RunConfig,
        api: SenderApi,
        journal: Journal,
        *,
        log: FilteringBoundLogger,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        timestamp: Callable[[], str] = utc_timestamp,
    ) -> None:
        self.config = config
        self._api = api
        self._journal = journal
        self._log = log
        self._sleep = sleep
        self._rand = rand
        self._monotonic = monotonic
        self._timestamp = timestamp
        self._backoff = Backoff(
            initial_s=config.backoff_initial_s,
            cap_s=config.backoff_cap_s,
            max_attempts=config.max_attempts,
        )
        self._calls: dict[Op, Callable[[str, str], Awaitable[Reply]]] = {
            Op.ATTACH: api.attach,
            Op.DETACH: api.detach,
            Op.FETCH: api.fetch,
        }
        # Loop-bound throttles are made in run(), inside the running loop.
        self.gate: RateGate | None = None
        self.window: ConcurrencyWindow | None = None
        self._abort: RunAborted | None = None
        self._stopping = False

    def stop(self) -> None:
        """Take no more rows; rows already taken finish and are recorded."""
        self._stopping = True

    async def run(self, items: Iterable[Row | InvalidRow]) -> None:
        """Process every item; raises :class:`RunAborted` if the run had to stop."""
        self.gate = RateGate(self.config.rate_per_s)
        self.window = ConcurrencyWindow(self.config.concurrency)
        send, receive = anyio.create_memory_object_stream[Row](self.config.concurrency)
        async with anyio.create_task_group() as group:
            async with receive:
                for _ in range(self.config.concurrency):
                    group.start_soon(self._worker, receive.clone(), group.cancel_scope)
            await self._feed(items, send)
        if self._abort is not None:
            raise self._abort

    async def _feed(self, items: Iterable[Row | InvalidRow], send: ObjectSendStream[Row]) -> None:
        async with send:
            for item in items:
                if self._stopping:
                    break
                if isinstance(item, InvalidRow):
                    self._journal.record(invalid_result(item, finished_at=self._timestamp()))
                else:
                    await send.send(item)

    async def _worker(self, receive: ObjectReceiveStream[Row], scope: anyio.CancelScope) -> None:
        async with receive:
            async for row in receive:
                try:
                    result = await self._process(row)
                except RunAborted as exc:
                    self._abort = exc
                    self._stopping = True
                    scope.cancel()
                    return
                self._journal.record(result)

    async def _process(self, row: Row) -> ItemResult:
        assert self.window is not None and self.gate is not None
        started = self._monotonic()
        call = self._calls[row.op]
        attempt = 0
        while True:
            attempt += 1
            async with self.window:
                await self.gate.acquire()
                try:
                    reply = await call(row.service_sid, row.sender_sid)
                except AuthenticationError as exc:
                    raise RunAborted(
                        f"authentication failed (HTTP 401, Twilio code {exc.code}): "
                        "check TWILIO_ACCOUNT_SID and the token or API key"
                    ) from None
                except ApiError as exc:
                    error = exc
                else:
                    return self._finish(
                        row,
                        Outcome.SUCCEEDED,
                        outcomes.SUCCESS[row.op],
                        attempt,
                        started,
                        status=reply.status,
                        resource=reply.body,
                    )
            if not self._backoff.should_retry(attempt, error):
                outcome, detail = outcomes.for_error(row.op, error)
                return self._finish(row, outcome, detail, attempt, started, error=error)
            wait_s = self._backoff.delay_s(
                attempt, rand=self._rand(), retry_after_s=error.retry_after_s
            )
            self._log.debug(
                "bulkops.item.retry",
                line=row.line,
                attempt=attempt,
                status=error.status,
                code=error.code,
                wait_s=round(wait_s, 3),
            )
            await self._sleep(wait_s)

    def _finish(
        self,
        row: Row,
        outcome: Outcome,
        detail: Detail,
        attempts: int,
        started: float,
        *,
        status: int | None = None,
        resource: Any = None,
        error: ApiError | None = None,
    ) -> ItemResult:
        extra: dict[str, Any] = {}
        if row.op is Op.FETCH and isinstance(resource, dict):
            extra = {name: resource.get(name) for name in outcomes.FETCHED_FIELDS}
        return ItemResult(
            line=row.line,
            op=row.op.value,
            service_sid=row.service_sid,
            sender_sid=row.sender_sid,
            outcome=outcome,
            detail=detail,
            kind=row.kind,
            http_status=error.status if error is not None else status,
            twilio_code=error.code if error is not None else None,
            message=error.message if error is not None else None,
            attempts=attempts,
            elapsed_ms=round((self._monotonic() - started) * 1000, 1),
            finished_at=self._timestamp(),
            resource=extra,
        )
