"""The records the engine writes: one :class:`~bulkops.model.ItemResult` per row.

:class:`RecordMaker` builds them from the run's clocks; :class:`UtcClock` is the
wall-clock stamp every record carries. A :class:`CallReport` is one call's last
answer, and a :class:`RowDone` a row's result with whether one of its writes may
still land (see :mod:`.settle`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ApiError
from ..model import Detail, InvalidRow, ItemResult, Op, Outcome, Row
from ..twilio.codes import TwilioCode
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
    #: When the last attempt that may have been applied without an answer (a write
    #: that timed out or lost its connection after sending) ended; None if none did.
    ambiguous_at: float | None = None

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


def ambiguous_at(calls: Iterable[CallReport]) -> float | None:
    """When the last of ``calls``' writes that may have landed unanswered ended; None if none."""
    return max((c.ambiguous_at for c in calls if c.ambiguous_at is not None), default=None)


@dataclass(frozen=True, slots=True)
class RowDone:
    """A row's result as its answers give it, and whether a write may still land."""

    result: ItemResult
    #: When the row's last attempt that may have been applied without an answer
    #: ended (the engine's monotonic clock); None when every write was answered.
    ambiguous_at: float | None = None


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
            sender=row.sender,
            message=row.problem,
            finished_at=self._timestamp(),
            from_service_sid=row.from_service_sid or None,
        )

    def duplicate(self, row: Row) -> ItemResult:
        """The record of a row that repeats an earlier row of the job: ``skipped``/``duplicate``."""
        return self.unsent(
            row,
            (Outcome.SKIPPED, Detail.DUPLICATE),
            "repeats an earlier row of this job (the same sender); not sent",
        )

    def not_found(self, row: Row) -> ItemResult:
        """The record of a row naming a number the account does not own: nothing was sent."""
        listing = row.kind.spec.account_listing
        where = f" ({listing.list_key})" if listing is not None else ""
        return self.unsent(
            row,
            (Outcome.FAILED, Detail.SENDER_NOT_FOUND),
            f"the account has no {row.kind.spec.label} {row.sender}{where}; not sent",
        )

    def unsent(
        self, row: Row, verdict: tuple[Outcome, Detail], message: str | None = None
    ) -> ItemResult:
        """The record of a row decided without a call of its own, e.g. a duplicate."""
        return self._record(row, verdict, message=message)

    def _record(  # noqa: PLR0913 - the row and verdict, then one keyword per field it fills
        self,
        row: Row,
        verdict: tuple[Outcome, Detail],
        *,
        message: str | None = None,
        http_status: int | None = None,
        twilio_code: int | None = None,
        attempts: int = 0,
        elapsed_ms: float = 0.0,
        throttled: int = 0,
        resource: dict[str, Any] | None = None,
    ) -> ItemResult:
        """The record of ``row`` with ``verdict``, finished now; the keywords fill the rest.

        Named parameters, not a keyword dict, and ItemResult's fields by position (17
        keywords cost 0.8 µs of 3): a sent row's record is built here too
        (``tests/test_records.py`` checks every field by name).
        """
        outcome, detail = verdict
        return ItemResult(
            row.line,
            row.op._value_,  # not .value (a property): every row
            row.service_sid,
            row.sender_sid,
            outcome,
            detail,
            row.kind,
            row.sender,
            http_status,
            twilio_code,
            message,
            attempts,
            elapsed_ms,
            self._timestamp(),
            throttled,
            row.from_service_sid,
            resource or {},
        )

    def pool_full(self, row: Row) -> ItemResult:
        """The record of an attach not sent: its service answered 21714 earlier in the run.

        ``failed``/``pool_full`` with Twilio's code, no HTTP status and no attempt.
        """
        message = (
            f"not sent: {row.service_sid} answered 21714 (pool full) earlier in this run, "
            "and no detach from it has succeeded since"
        )
        verdict = Outcome.FAILED, Detail.POOL_FULL
        return self._record(row, verdict, message=message, twilio_code=int(TwilioCode.POOL_FULL))

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
        ``row.sender_sid`` is the SID acted on: an alpha sender's row is passed
        with the ``AI…`` SID it was found or created with (see :func:`acted_on`).
        The last call (or ``reason``) gives status, code and message; ``elapsed_ms``
        runs from the first call's start to now (the same monotonic clock), so
        time queued for a window slot or ``--rate`` before it is not counted.
        """
        last = reason or calls[-1]
        error = last.error
        first = calls[0]
        if len(calls) == 1:  # most rows: one call, no sums to build
            attempts, throttled = first.attempts, first.throttled
        else:
            attempts = sum(c.attempts for c in calls)
            throttled = sum(c.throttled for c in calls)
        if error is None:
            reply = last.reply
            status, code, message = (reply.status if reply is not None else None), None, None
        else:
            status, code, message = error.status, error.code, error.message
        return self._record(
            row,
            verdict,
            message=message,
            http_status=status,
            twilio_code=code,
            attempts=attempts,
            # tenths of a millisecond; round(x, 1) costs three times as much (decimal rounding)
            elapsed_ms=round((self._monotonic() - first.started) * 10_000) / 10,
            throttled=throttled,
            resource=extra,
        )

    def settled(  # noqa: PLR0913 - the result and its read, then keyword-only choices
        self,
        result: ItemResult,
        checks: Sequence[CallReport],
        *,
        verdict: tuple[Outcome, Detail] | None,
        message: str,
        carried_attempts: int = 0,
        decided_by: CallReport | None = None,
    ) -> ItemResult:
        """``result`` as established by reading its sender back (``checks``); ``settled`` set.

        ``checks`` are the read's calls (GETs of the sender, or the pages of its
        service's list for a sender named by text, and any read of a service).
        ``verdict`` replaces the outcome and detail, and the status and code of the
        read that established it (``decided_by``, else the last check) replace the
        result's: the record shows what was read, never an answer no call gave.
        None keeps the result's own and adds ``message`` to its message. Attempts
        and 429s add the checks', and ``carried_attempts`` (those of earlier results
        of the row that were never recorded).
        """
        read = replace(
            result,
            attempts=result.attempts + sum(c.attempts for c in checks) + carried_attempts,
            throttled=result.throttled + sum(c.throttled for c in checks),
            finished_at=self._timestamp(),
            settled=True,
        )
        if verdict is None:
            shown = f"{result.message}; {message}" if result.message else message
            return replace(read, message=shown)
        outcome, detail = verdict
        shown_by = decided_by or (checks[-1] if checks else None)
        error = shown_by.error if shown_by is not None else None
        return replace(
            read,
            outcome=outcome,
            detail=detail,
            http_status=shown_by.status if shown_by is not None else None,
            twilio_code=error.code if error is not None else None,
            message=message,
        )


def acted_on(row: Row, sid: str) -> Row:
    """``row`` as it was acted on: with ``sid``, the SID its calls addressed (or "")."""
    return row if sid == row.sender_sid else replace(row, sender_sid=sid)


def fetched_fields(row: Row, reply: Reply | None, names: Sequence[str]) -> dict[str, Any]:
    """The fields of a fetched resource a fetch row's record carries; {} for other ops.

    ``names`` are read as they are, and the kind's own number field (e.g.
    ``phone_number``) before them.
    """
    if row.op is not Op.FETCH or reply is None or not isinstance(reply.body, dict):
        return {}
    fields = (row.kind.number_field, *names)
    return {name: reply.body.get(name) for name in fields}
