"""One ``attach``, ``detach`` or ``fetch`` row: its calls and its record, for every kind.

Kinds differ here only by what the row knows. A row with a SID (a short code or
phone number, named or resolved) makes exactly one call, addressed by that SID.
A row naming an alpha sender attaches by its text (``AlphaSender=…``; Twilio
answers with the ``AI…`` SID it created), and finds that SID for a detach or a
fetch, or for an attach answered 409/21710 (already in the service), in the
service's list (:class:`~bulkops.engine.directory.ServiceDirectory`, listed once
per service). An alpha sender the list does not have is ``not_attached`` for a
detach and ``not_found`` for a fetch, with no call of its own.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import ItemResult, Op, Outcome, Row
from ..twilio.codes import TwilioCode
from ..twilio.wire import Reply, build_request
from . import outcomes
from .calls import CallLoop
from .directory import ServiceDirectory
from .records import CallReport, RecordMaker, acted_on, fetched_fields


def created_sid(row: Row, reply: Reply | None) -> str:
    """The SID a create call acted on: the row's own, else the ``sid`` of Twilio's answer."""
    if row.sender_sid:
        return row.sender_sid
    body = reply.body if reply is not None else None
    sid = body.get("sid") if isinstance(body, dict) else None
    return sid if isinstance(sid, str) else ""


class SenderActions:
    """Runs the single-call rows of a run; see :meth:`run`."""

    def __init__(self, calls: CallLoop, records: RecordMaker, directory: ServiceDirectory) -> None:
        self.calls = calls
        self.records = records
        self.directory = directory

    async def run(self, row: Row) -> ItemResult:
        """Make ``row``'s call(s) (its op is not ``migrate``) and return its record.

        Raises :class:`~bulkops.engine.calls.Abandoned` when the run stops before
        a call starts, and :class:`~bulkops.errors.RunAborted` on a 401.
        """
        if row.op is Op.ATTACH:
            return await self._attach(row)
        return await self._at_sid(row)

    async def _attach(self, row: Row) -> ItemResult:
        request = build_request(Op.ATTACH, row.kind, row.service_sid, row.create_value)
        done = await self.calls.call(request, row.line)
        if done.error is None:
            sid = created_sid(row, done.reply)
            self.directory.note(row, row.service_sid, sid)
            verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[Op.ATTACH]
            return self.records.sent(acted_on(row, sid), verdict, [done])
        verdict = outcomes.for_error(Op.ATTACH, done.error)
        made, sid = [done], row.sender_sid
        if not sid and done.error.code == TwilioCode.ALREADY_IN_SERVICE:
            found = await self.directory.find(row, row.service_sid)
            made += found.calls
            sid = found.sid or ""
        return self.records.sent(acted_on(row, sid), verdict, made, reason=done)

    async def _at_sid(self, row: Row) -> ItemResult:
        made: list[CallReport] = []
        sid = row.sender_sid
        if not sid:
            found = await self.directory.find(row, row.service_sid)
            made += found.calls
            if found.error is not None:
                return self.records.sent(row, outcomes.for_error(row.op, found.error), made)
            if found.sid is None:
                return self._absent(row, made)
            sid = found.sid
        request = build_request(row.op, row.kind, row.service_sid, sid)
        done = await self.calls.call(request, row.line)
        made.append(done)
        if done.error is None:
            verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[row.op]
        else:
            verdict = outcomes.for_error(row.op, done.error)
        if row.op is Op.DETACH and verdict[0] is Outcome.SUCCEEDED:
            self.directory.note(row, row.service_sid, None)
        extra = fetched_fields(row, done.reply, outcomes.FETCHED_FIELDS)
        return self.records.sent(acted_on(row, sid), verdict, made, extra=extra)

    def _absent(self, row: Row, made: list[CallReport]) -> ItemResult:
        """The record of a text sender the service's list does not have."""
        verdict = outcomes.ABSENT[row.op]
        message = f"{row.sender!r} is not among {row.service_sid}'s {row.kind.collection}"
        if made:  # this row listed the service: the list calls are its calls
            return replace(self.records.sent(row, verdict, made), message=message)
        return self.records.unsent(row, verdict, message)


__all__ = ["SenderActions", "created_sid"]
