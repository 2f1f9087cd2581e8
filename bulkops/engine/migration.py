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
a move into a service known to be full (21714) is not started (asked again right
before its first call is sent, after that call's waits), and a 404 from the
source is told apart from "no such source service" (``service_not_found``) by
reading that service once.

A move whose writes got no answer is settled by reading the sender back in both
services (:mod:`.settle`), which finishes or undoes one found half done
(:meth:`~.steps.Steps.mend`).
"""

from __future__ import annotations

import anyio

from ..errors import RunAborted
from ..model import Detail, ItemResult, Op, Outcome, Row
from ..twilio.codes import TwilioCode
from . import outcomes
from .actions import created_sid
from .records import CallReport
from .steps import Steps


class Move(Steps):
    """Detach from the source, attach to the target, put it back on failure (by SID)."""

    PLAN = ((Op.DETACH, "source"), (Op.ATTACH, "target"))

    async def _move(self) -> ItemResult:
        detach = await self._call(Op.DETACH, self._source, "detach", self._sid, first=True)
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
        # The record carries the attach's answer: the reason the move failed.
        return self._put_back(back, failed=outcomes.for_error(Op.ATTACH, error), reason=attach)

    async def _finish(self) -> ItemResult:
        return await self._attach(moved=True)

    async def _restore(self) -> ItemResult:
        back = await self._call(Op.ATTACH, self._source, "reattach", self._sid, abandonable=False)
        failed = (Outcome.FAILED, Detail.RETRIES_EXHAUSTED)
        if back.error is not None:
            failed = outcomes.for_error(Op.ATTACH, back.error)
        return self._put_back(back, failed=failed, reason=None)

    def _put_back(
        self, back: CallReport, *, failed: tuple[Outcome, Detail], reason: CallReport | None
    ) -> ItemResult:
        """The record once ``back`` (the attach to the source) answered.

        ``rolled_back`` when it is back; ``rollback_failed`` (logged: a person is
        needed) when it was refused. When a write of the move may still land (the
        target's attach or ``back`` got no answer), it is not knowingly lost: the
        record is ``failed`` (``failed``'s detail) and the read-back settles it.
        """
        restored = back.error is None or back.error.code == TwilioCode.ALREADY_IN_SERVICE
        if restored:
            return self._done(Outcome.FAILED, Detail.ROLLED_BACK, reason=reason)
        if self.ambiguous_at is not None:
            return self._done(*failed, reason=reason)
        self._log.error(
            "bulkops.migrate.rollback_failed",
            line=self._row.line,
            sender_sid=self._sid,
            source=self._source,
            steps=self._steps,
        )
        return self._done(Outcome.FAILED, Detail.ROLLBACK_FAILED, reason=reason)


class CopyThenDelete(Steps):
    """Create the sender in the target by its text, then delete it from the source."""

    PLAN = ((Op.ATTACH, "target"), (Op.DETACH, "source"))

    async def _move(self) -> ItemResult:
        row = self._row
        attach = await self._call(
            Op.ATTACH, row.service_sid, "attach", row.create_value, first=True
        )
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
            return await self._drop_source(found.sid)
        return self._done(Outcome.SUCCEEDED, Detail.MIGRATED)

    async def _finish(self) -> ItemResult:
        return await self._move()

    async def _restore(self) -> ItemResult:
        row = self._row
        back = await self._call(
            Op.ATTACH, self._source, "reattach", row.create_value, abandonable=False
        )
        if back.error is None:  # the record names the SID it has in the source now
            self._sid = created_sid(row, back.reply)
            self._directory.note(row, self._source, self._sid)
        if back.error is None or back.error.code == TwilioCode.ALREADY_IN_SERVICE:
            return self._done(Outcome.FAILED, Detail.ROLLED_BACK)
        return self._done(*outcomes.for_error(Op.ATTACH, back.error))

    async def _find(self, service_sid: str) -> str | None:
        found = await self._directory.find(self._row, service_sid, abandonable=False)
        self._note_lists(found.calls)
        return found.sid

    def _note_lists(self, calls: list[CallReport]) -> None:
        self._made += calls
        self._steps += [call.step("list") for call in calls]


def migration_for(row: Row) -> type[Steps]:
    """The move a ``migrate`` row of this kind makes, by its kind's description.

    A sender that can be in one service at a time must leave the source before
    it can enter the target (:class:`Move`, rolled back if the attach fails); one
    that may sit in several services is copied first and then deleted, so it is
    never in none (:class:`CopyThenDelete`).
    """
    return Move if row.kind.spec.one_service_at_a_time else CopyThenDelete


__all__ = ["CopyThenDelete", "Move", "migration_for"]
