"""One ``attach``, ``detach`` or ``fetch`` row: its calls and its record, for every kind.

Kinds differ here only by what the row knows. A row with a SID (a short code or
phone number, named or resolved) makes exactly one call, addressed by that SID.
A row naming an alpha sender attaches by its text (``AlphaSender=…``; Twilio
answers with the ``AI…`` SID it created), and finds that SID for a detach or a
fetch, or for an attach answered 409/21710 (already in the service), in the
service's list (:class:`~bulkops.engine.directory.ServiceDirectory`, listed once
per service). An alpha sender the list does not have is ``not_attached`` for a
detach and ``not_found`` for a fetch, with no call of its own.

What the run knows of its services (:class:`~bulkops.engine.services.ServiceFacts`)
is used too: an attach of a pooled kind to a service known to be full is not
sent (asked before the row starts and again right before the call is sent, after
its waits for the rate and a window slot, so that at most the attaches already
in flight when the first 21714 arrives are sent), and a 404 on a detach or a
fetch (or on the list of an alpha sender's service) is told apart from "no such
service" by reading the service once.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import replace

from ..model import Detail, ItemResult, Op, Outcome, Row
from ..twilio.codes import TwilioCode
from ..twilio.wire import Reply, build_request
from . import outcomes
from .calls import CallLoop, Withheld
from .directory import ServiceDirectory
from .records import CallReport, RecordMaker, RowDone, acted_on, ambiguous_at, fetched_fields
from .services import ServiceFacts

Verdict = tuple[Outcome, Detail]


def created_sid(row: Row, reply: Reply | None) -> str:
    """The SID a create call acted on: the row's own, else the ``sid`` of Twilio's answer."""
    if row.sender_sid:
        return row.sender_sid
    body = reply.body if reply is not None else None
    sid = body.get("sid") if isinstance(body, dict) else None
    return sid if isinstance(sid, str) else ""


class SenderActions:
    """Runs the single-call rows of a run; see :meth:`run`."""

    def __init__(
        self,
        calls: CallLoop,
        records: RecordMaker,
        directory: ServiceDirectory,
        facts: ServiceFacts,
    ) -> None:
        self.calls = calls
        self.records = records
        self.directory = directory
        self.facts = facts

    def run(self, row: Row) -> Coroutine[None, None, RowDone]:
        """The coroutine that makes ``row``'s call(s) (its op is not ``migrate``): its record,
        and any late write. Handed back, not awaited here: a coroutine level less per resume.

        Awaiting it raises :class:`~bulkops.engine.calls.Abandoned` when the run stops before
        a call starts, and :class:`~bulkops.errors.RunAborted` on a 401 or when the
        network is gone.
        """
        if row.op is Op.ATTACH:
            return self._attach(row)
        return self._at_sid(row)

    async def _attach(self, row: Row) -> RowDone:
        if self.facts.is_full(row.service_sid, row.kind):
            return RowDone(self.records.pool_full(row))
        request = build_request(Op.ATTACH, row.kind, row.service_sid, row.create_value)
        try:
            done = await self.calls.call(
                request,
                row.line,
                withhold=lambda: self.facts.is_full(row.service_sid, row.kind),
                read_body=not row.sender_sid,  # only a create by value reads the SID it made
            )
        except Withheld:  # found full while this call waited its turn: not sent
            return RowDone(self.records.pool_full(row))
        self.facts.observe(Op.ATTACH, row.kind, row.service_sid, done)
        if done.error is None:
            sid = created_sid(row, done.reply)
            self.directory.note(row, row.service_sid, sid)
            verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[Op.ATTACH]
            result = self.records.sent(acted_on(row, sid), verdict, [done])
            return RowDone(result, done.ambiguous_at)
        verdict = outcomes.for_error(Op.ATTACH, done.error)
        made, sid = [done], row.sender_sid
        if not sid and done.error.code == TwilioCode.ALREADY_IN_SERVICE:
            found = await self.directory.find(row, row.service_sid)
            made += found.calls
            sid = found.sid or ""
        result = self.records.sent(acted_on(row, sid), verdict, made, reason=done)
        return RowDone(result, done.ambiguous_at)

    async def _at_sid(self, row: Row) -> RowDone:
        made: list[CallReport] = []
        sid = row.sender_sid
        if not sid:
            found = await self.directory.find(row, row.service_sid)
            made += found.calls
            if found.error is not None:  # the service's list could not be read
                verdict, reason = outcomes.for_error(row.op, found.error), made[-1]
                if found.error.status == 404:
                    verdict, reason = await self._judge_404(row, verdict, made)
                return RowDone(self.records.sent(row, verdict, made, reason=reason))
            if found.sid is None:
                return RowDone(self._absent(row, made))
            sid = found.sid
        request = build_request(row.op, row.kind, row.service_sid, sid)
        done = await self.calls.call(request, row.line, read_body=row.op is Op.FETCH)
        self.facts.observe(row.op, row.kind, row.service_sid, done)
        made.append(done)
        reason = done
        if done.error is None:
            verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[row.op]
        else:
            verdict = outcomes.for_error(row.op, done.error)
            if done.error.status == 404:
                verdict, reason = await self._judge_404(row, verdict, made)
        if row.op is Op.DETACH and verdict[0] is Outcome.SUCCEEDED:
            self.directory.note(row, row.service_sid, None)
        extra = fetched_fields(row, done.reply, outcomes.FETCHED_FIELDS)
        result = self.records.sent(acted_on(row, sid), verdict, made, extra=extra, reason=reason)
        return RowDone(result, ambiguous_at(made))

    async def _judge_404(
        self, row: Row, verdict: Verdict, made: list[CallReport]
    ) -> tuple[Verdict, CallReport]:
        """``verdict`` for a 404 in the row's service, unless that service does not exist.

        ``made[-1]`` is the call answered 404; the service is read once per run
        (the read, when made, joins ``made``). Returns the verdict and the call whose
        answer the record gives: a service that does not exist makes it
        ``failed``/``service_not_found`` (the 404); one that could not be read, the
        read's failure (the read).
        """
        answered = made[-1]
        exists, check = await self.facts.exists(row.service_sid, row.line)
        if check is not None:
            made.append(check)
        if exists is False:
            return (Outcome.FAILED, Detail.SERVICE_NOT_FOUND), answered
        if exists is None and check is not None and check.error is not None:
            return outcomes.for_error(Op.FETCH, check.error), check
        return verdict, answered

    def _absent(self, row: Row, made: list[CallReport]) -> ItemResult:
        """The record of a text sender the service's list does not have."""
        verdict = outcomes.ABSENT[row.op]
        message = f"{row.sender!r} is not among {row.service_sid}'s {row.kind.collection}"
        if made:  # this row listed the service: the list calls are its calls
            return replace(self.records.sent(row, verdict, made), message=message)
        return self.records.unsent(row, verdict, message)


__all__ = ["SenderActions", "created_sid"]
