"""A ``migrate`` row: move a sender from ``from_service_sid`` to ``service_sid``.

A sender is never knowingly left in no service. Which order keeps that promise
depends on what Twilio allows, so each kind's description picks one of two
moves (:func:`migration_for`):

- A sender with a SID (a short code, a phone number) is in one service at a
  time: :class:`Move` detaches it from the source, attaches it to the target,
  and if that attach fails for good re-attaches it to the source
  (``rolled_back``; ``rollback_failed`` if that fails too, which needs a person).
  Once detached, the move runs to its end even if the run is stopping.
- An alpha sender may be in several services at once (each holds its own
  ``AI…`` SID for the text): :class:`CopyThenDelete` creates it in the target
  first and only then deletes it from the source, so a failed create changes
  nothing.

Both use what the run knows of its services (:class:`~.services.ServiceFacts`):
a move into a service known to be full (21714) is not started, and a 404 from
the source is told apart from "no such source service" (``service_not_found``)
by reading that service once.
"""

from __future__ import annotations

import anyio
from structlog.typing import FilteringBoundLogger

from ..errors import RunAborted
from ..model import Detail, ItemResult, Op, Outcome, Row
from ..twilio.codes import TwilioCode
from ..twilio.wire import build_request
from . import outcomes
from .actions import created_sid
from .calls import CallLoop
from .directory import ServiceDirectory
from .records import CallReport, RecordMaker, acted_on, ambiguous_at
from .services import ServiceFacts


class _Steps:
    """One migrate row's calls and steps so far, and how its record is made."""

    #: The calls of a move that goes as planned, in order: (op, "source" or "target").
    PLAN: tuple[tuple[Op, str], ...] = ()

    def __init__(  # noqa: PLR0913 - the row and its calls, then the run's parts
        self,
        row: Row,
        calls: CallLoop,
        *,
        log: FilteringBoundLogger,
        records: RecordMaker,
        directory: ServiceDirectory,
        facts: ServiceFacts,
    ) -> None:
        if row.from_service_sid is None:
            raise ValueError(f"line {row.line}: a migrate row needs from_service_sid")
        self._row = row
        self._source = row.from_service_sid
        self._calls = calls
        self._log = log
        self._records = records
        self._directory = directory
        self._facts = facts
        self._made: list[CallReport] = []
        self._steps: list[str] = []
        #: The SID acted on in the target, once known.
        self._sid = row.sender_sid

    @property
    def ambiguous_at(self) -> float | None:
        """When the last write of the move that may have landed unanswered ended; None if none."""
        return ambiguous_at(self._made)

    async def run(self) -> ItemResult:
        """Make the move; returns the row's record. Raises :class:`Abandoned` if stopped first."""
        if self._facts.is_full(self._row.service_sid, self._row.kind):
            return self._records.pool_full(self._row)  # the attach could only fail: do nothing
        return await self._move()

    async def _move(self) -> ItemResult:
        raise NotImplementedError

    async def _source_missing(self, *, abandonable: bool = True) -> bool:
        """After a 404 from the source: True when the source service does not exist."""
        exists, check = await self._facts.exists(
            self._source, self._row.line, abandonable=abandonable
        )
        if check is not None:  # a call of the row's (attempts), not a step of the move
            self._made.append(check)
        return exists is False

    async def _call(
        self, op: Op, service_sid: str, step: str, value: str, *, abandonable: bool = True
    ) -> CallReport:
        request = build_request(op, self._row.kind, service_sid, value)
        report = await self._calls.call(request, self._row.line, abandonable=abandonable)
        self._facts.observe(op, self._row.kind, service_sid, report)
        self._made.append(report)
        self._steps.append(report.step(step))
        return report

    def _interrupted(self, note: str) -> None:
        self._log.error(
            "bulkops.migrate.interrupted",
            line=self._row.line,
            sender=self._row.sender,
            sender_sid=self._sid,
            source=self._source,
            note=note,
        )

    def _done(
        self, outcome: Outcome, detail: Detail, *, reason: CallReport | None = None
    ) -> ItemResult:
        return self._records.sent(
            acted_on(self._row, self._sid),
            (outcome, detail),
            self._made,
            extra={"steps": self._steps},
            reason=reason,
        )


class Move(_Steps):
    """Detach from the source, attach to the target, put it back on failure (by SID)."""

    PLAN = ((Op.DETACH, "source"), (Op.ATTACH, "target"))

    async def _move(self) -> ItemResult:
        detach = await self._call(Op.DETACH, self._source, "detach", self._sid)
        if detach.error is not None and detach.error.status != 404:
            outcome, detail = outcomes.for_error(Op.DETACH, detach.error)
            return self._done(outcome, detail)
        if detach.error is not None and await self._source_missing():  # a mistyped source
            return self._done(Outcome.FAILED, Detail.SERVICE_NOT_FOUND, reason=detach)
        moved = detach.error is None
        try:
            return await self._attach(moved=moved)
        except (anyio.get_cancelled_exc_class(), RunAborted):
            self._interrupted("detached from the source, attach not confirmed: resume the run")
            raise

    async def _attach(self, *, moved: bool) -> ItemResult:
        target = self._row.service_sid
        attach = await self._call(Op.ATTACH, target, "attach", self._sid, abandonable=not moved)
        error = attach.error
        if error is None or error.code == TwilioCode.ALREADY_IN_SERVICE:
            return self._done(Outcome.SUCCEEDED, Detail.MIGRATED)
        if not moved and error.code == TwilioCode.IN_ANOTHER_SERVICE:  # elsewhere: not lost
            return self._done(*outcomes.for_error(Op.ATTACH, error))
        # Put it back in the source. Also after a 404 on the detach: that 404 may
        # answer our own earlier attempt (a timed-out detach that landed), so the
        # sender may be in no service at all.
        back = await self._call(Op.ATTACH, self._source, "reattach", self._sid, abandonable=False)
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
                sender_sid=self._sid,
                source=self._source,
                steps=self._steps,
            )
        detail = Detail.ROLLED_BACK if restored else Detail.ROLLBACK_FAILED
        # The record carries the attach's answer: the reason the move failed.
        return self._done(Outcome.FAILED, detail, reason=attach)


class CopyThenDelete(_Steps):
    """Create the sender in the target by its text, then delete it from the source."""

    PLAN = ((Op.ATTACH, "target"), (Op.DETACH, "source"))

    async def _move(self) -> ItemResult:
        row = self._row
        attach = await self._call(Op.ATTACH, row.service_sid, "attach", row.create_value)
        error = attach.error
        if error is not None and error.code != TwilioCode.ALREADY_IN_SERVICE:
            return self._done(*outcomes.for_error(Op.ATTACH, error))  # nothing changed
        try:
            return await self._delete_from_source(created=error is None, reply_of=attach)
        except (anyio.get_cancelled_exc_class(), RunAborted):
            self._interrupted("in the target, not yet deleted from the source: resume the run")
            raise

    async def _delete_from_source(self, *, created: bool, reply_of: CallReport) -> ItemResult:
        row, directory = self._row, self._directory
        if created:
            self._sid = created_sid(row, reply_of.reply)
            directory.note(row, row.service_sid, self._sid)
        else:  # 21710: already in the target; the record names the SID it has there
            self._sid = await self._find(row.service_sid) or ""
        found = await directory.find(row, self._source, abandonable=False)
        self._note_lists(found.calls)
        if found.error is not None and found.error.status != 404:
            return self._done(*outcomes.for_error(Op.DETACH, found.error), reason=found.calls[-1])
        if found.error is not None and await self._source_missing(abandonable=False):
            # A mistyped source; the copy in the target stays (it is in a service either way).
            return self._done(Outcome.FAILED, Detail.SERVICE_NOT_FOUND, reason=found.calls[-1])
        if found.sid is not None:
            delete = await self._call(
                Op.DETACH, self._source, "detach", found.sid, abandonable=False
            )
            if delete.error is not None and delete.error.status != 404:
                return self._done(*outcomes.for_error(Op.DETACH, delete.error))
            directory.note(row, self._source, None)
        return self._done(Outcome.SUCCEEDED, Detail.MIGRATED)

    async def _find(self, service_sid: str) -> str | None:
        found = await self._directory.find(self._row, service_sid, abandonable=False)
        self._note_lists(found.calls)
        return found.sid

    def _note_lists(self, calls: list[CallReport]) -> None:
        self._made += calls
        self._steps += [call.step("list") for call in calls]


def migration_for(row: Row) -> type[_Steps]:
    """The move a ``migrate`` row of this kind makes: by its kind's description."""
    return CopyThenDelete if row.kind.spec.creates_by_text else Move


__all__ = ["CopyThenDelete", "Move", "migration_for"]
