"""The records the engine writes: one :class:`~bulkops.model.ItemResult` per row.

:class:`RecordMaker` builds them from the run's clocks; :class:`UtcClock` is the
wall-clock stamp every record carries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from ..model import Detail, InvalidRow, ItemResult, Op, Outcome, Row
from ..twilio.wire import Reply


class UtcClock:
    """Now in UTC, ISO 8601 with milliseconds, e.g. ``2026-11-23T12:49:17.735Z``.

    Formats each whole second once and reuses it within that second: records
    are written thousands of times a second. The cache is this object's own.
    """

    __slots__ = ("_second", "_text", "_time")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._time = clock
        self._second = -1
        self._text = ""

    def __call__(self) -> str:
        now = self._time()
        whole = int(now)
        if whole != self._second:
            self._second = whole
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        return self._text + _MILLIS[int((now - whole) * 1000)]


#: ``.000Z`` to ``.999Z``: the end of every timestamp, formatted once.
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))


@dataclass(slots=True)
class CallReport:
    """The last answer of one API call after its retries."""

    reply: Reply | None
    error: ApiError | None
    attempts: int
    throttled: int
    #: When the first attempt started (the engine's monotonic clock, seconds).
    started: float

    @property
    def status(self) -> int | None:
        """The HTTP status of the last answer; None when there was none (network)."""
        if self.reply is not None:
            return self.reply.status
        return self.error.status if self.error is not None else None

    def step(self, name: str) -> str:
        """``name:status[/code]`` for a migration's ``steps``, e.g. ``detach:404/20404``."""
        if self.error is None:
            return f"{name}:{self.status}"
        code = f"/{self.error.code}" if self.error.code else ""
        return f"{name}:{self.error.status or 'network'}{code}"


class RecordMaker:
    """Builds the record of each row, stamped by the run's two clocks.

    ``monotonic`` (seconds) is the clock calls are timed on, for ``elapsed_ms``;
    ``timestamp`` gives ``finished_at`` (e.g. :class:`UtcClock`).
    """

    __slots__ = ("_monotonic", "_timestamp")

    def __init__(self, monotonic: Callable[[], float], timestamp: Callable[[], str]) -> None:
        self._monotonic = monotonic
        self._timestamp = timestamp

    def invalid(self, row: InvalidRow) -> ItemResult:
        """The record of a row that failed validation: ``invalid``/``invalid_row``."""
        return ItemResult(
            line=row.line,
            op=row.op,
            service_sid=row.service_sid,
            sender_sid=row.sender_sid,
            outcome=Outcome.INVALID,
            detail=Detail.INVALID_ROW,
            kind=row.kind,
            message=row.problem,
            finished_at=self._timestamp(),
            from_service_sid=row.from_service_sid or None,
        )

    def duplicate(self, row: Row) -> ItemResult:
        """The record of a row that repeats an earlier row of the job: ``skipped``/``duplicate``."""
        return ItemResult(
            line=row.line,
            op=row.op.value,
            service_sid=row.service_sid,
            sender_sid=row.sender_sid,
            outcome=Outcome.SKIPPED,
            detail=Detail.DUPLICATE,
            kind=row.kind,
            message="repeats an earlier row of this job; not sent",
            finished_at=self._timestamp(),
            from_service_sid=row.from_service_sid,
        )

    def sent(
        self,
        row: Row,
        verdict: tuple[Outcome, Detail],
        calls: Sequence[CallReport],
        *,
        extra: dict[str, Any] | None = None,
        reason: CallReport | None = None,
    ) -> ItemResult:
        """The record of a row that reached the network, finished now.

        ``verdict`` is its outcome and detail (as :mod:`.outcomes` gives them).
        The last call (or ``reason``) gives status, code and message; ``elapsed_ms``
        runs from the first call's start to now (the same monotonic clock), so
        time queued for a window slot or ``--rate`` before it is not counted.
        """
        outcome, detail = verdict
        last = reason or calls[-1]
        error = last.error
        first = calls[0]
        if len(calls) == 1:  # most rows: one call, no sums to build
            attempts, throttled = first.attempts, first.throttled
        else:
            attempts = sum(c.attempts for c in calls)
            throttled = sum(c.throttled for c in calls)
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
            attempts=attempts,
            elapsed_ms=round((self._monotonic() - first.started) * 1000, 1),
            finished_at=self._timestamp(),
            throttled=throttled,
            from_service_sid=row.from_service_sid,
            resource=extra or {},
        )


def fetched_fields(op: Op, reply: Reply | None, names: Sequence[str]) -> dict[str, Any]:
    """The fields of a fetched resource a fetch row's record carries; {} for other ops."""
    if op is not Op.FETCH or reply is None or not isinstance(reply.body, dict):
        return {}
    return {name: reply.body.get(name) for name in names}
