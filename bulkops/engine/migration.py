"""A ``migrate`` row: detach from the source, attach to the target, put it back on failure.

The sender is never knowingly left in no service: once it is detached, the
move runs to its end even if the run is stopping, and an attach that fails for
good re-attaches it to the source (``rolled_back``; ``rollback_failed`` if that
fails too, which needs a person).
"""

from __future__ import annotations

import anyio
from structlog.typing import FilteringBoundLogger

from ..errors import RunAborted
from ..model import Detail, ItemResult, Op, Outcome, Row
from ..twilio.codes import TwilioCode
from ..twilio.wire import build_request
from . import outcomes
from .calls import CallLoop
from .records import CallReport, RecordMaker
from .services import ServiceFacts


class Migration:
    """Moves one row's sender; build one per row with :meth:`run`."""

    def __init__(
        self,
        row: Row,
        calls: CallLoop,
        *,
        log: FilteringBoundLogger,
        records: RecordMaker,
        facts: ServiceFacts,
    ) -> None:
        if row.from_service_sid is None:
            raise ValueError(f"line {row.line}: a migrate row needs from_service_sid")
        self._row = row
        self._source = row.from_service_sid
        self._calls = calls
        self._log = log
        self._records = records
        self._facts = facts
        self._made: list[CallReport] = []
        self._steps: list[str] = []

    @property
    def ambiguous_at(self) -> float | None:
        """When the last write of the move that may have landed unanswered ended; None if none."""
        return max((c.ambiguous_at for c in self._made if c.ambiguous_at is not None), default=None)

    async def run(self) -> ItemResult:
        """Make the move; returns the row's record. Raises :class:`Abandoned` if stopped first."""
        row = self._row
        if self._facts.is_full(row.service_sid):  # the attach could only fail: do not detach
            return self._records.pool_full(row)
        detach = await self._call(Op.DETACH, self._source, "detach")
        if detach.error is not None and detach.error.status != 404:
            outcome, detail = outcomes.for_error(Op.DETACH, detach.error)
            return self._done(outcome, detail)
        if detach.error is not None:  # 404: not in the source, or no such source service
            exists, check = await self._facts.exists(self._source, row.line)
            if check is not None:
                self._made.append(check)
            if exists is False:
                return self._done(Outcome.FAILED, Detail.SERVICE_NOT_FOUND, reason=detach)
        moved = detach.error is None
        try:
            return await self._attach(moved=moved)
        except (anyio.get_cancelled_exc_class(), RunAborted):
            self._log.error(
                "bulkops.migrate.interrupted",
                line=row.line,
                sender_sid=row.sender_sid,
                source=self._source,
                note="detached from the source, attach not confirmed: resume the run",
            )
            raise

    async def _attach(self, *, moved: bool) -> ItemResult:
        attach = await self._call(Op.ATTACH, self._row.service_sid, "attach", abandonable=not moved)
        error = attach.error
        if error is None or error.code == TwilioCode.ALREADY_IN_SERVICE:
            return self._done(Outcome.SUCCEEDED, Detail.MIGRATED)
        if not moved and error.code == TwilioCode.IN_ANOTHER_SERVICE:  # elsewhere: not lost
            return self._done(*outcomes.for_error(Op.ATTACH, error))
        # Put it back in the source. Also after a 404 on the detach: that 404 may
        # answer our own earlier attempt (a timed-out detach that landed), so the
        # sender may be in no service at all.
        back = await self._call(Op.ATTACH, self._source, "reattach", abandonable=False)
        if (
            not moved
            and back.error is not None
            and back.error.code == TwilioCode.IN_ANOTHER_SERVICE
        ):
            # It was somewhere else all along: nothing to restore.
            return self._done(*outcomes.for_error(Op.ATTACH, error), reason=attach)
        restored = back.error is None or back.error.code == TwilioCode.ALREADY_IN_SERVICE
        if not restored:
            self._log.error(
                "bulkops.migrate.rollback_failed",
                line=self._row.line,
                sender_sid=self._row.sender_sid,
                source=self._source,
                steps=self._steps,
            )
        detail = Detail.ROLLED_BACK if restored else Detail.ROLLBACK_FAILED
        # The record carries the attach's answer: the reason the move failed.
        return self._done(Outcome.FAILED, detail, reason=attach)

    async def _call(
        self, op: Op, service_sid: str, step: str, *, abandonable: bool = True
    ) -> CallReport:
        row = self._row
        request = build_request(op, row.kind, service_sid, row.sender_sid)
        report = await self._calls.call(request, row.line, abandonable=abandonable)
        self._facts.observe(op, service_sid, report)
        self._made.append(report)
        self._steps.append(report.step(step))
        return report

    def _done(
        self, outcome: Outcome, detail: Detail, *, reason: CallReport | None = None
    ) -> ItemResult:
        return self._records.sent(
            self._row, (outcome, detail), self._made, extra={"steps": self._steps}, reason=reason
        )
