"""One row, start to end: its calls, and what their answers mean.

:class:`RowRunner` makes a row's calls through the :class:`~.calls.CallLoop` and
judges the answers by the outcome table (:mod:`.outcomes`), with what the run
knows of its services (:class:`~.services.ServiceFacts`): an attach to a service
known to be full is not sent, and a 404 on a detach or fetch is told apart from
"no such service". A ``migrate`` row is a :class:`~.migration.Migration`.
"""

from __future__ import annotations

from dataclasses import dataclass

from structlog.typing import FilteringBoundLogger

from ..model import Detail, ItemResult, Op, Outcome, Row
from ..twilio.wire import build_request
from . import outcomes
from .calls import CallLoop
from .migration import Migration
from .records import CallReport, RecordMaker, fetched_fields
from .services import ServiceFacts

#: Ops whose 404 may mean "no such service" rather than "not in this service".
_CHECKED_404 = frozenset({Op.DETACH, Op.FETCH})


@dataclass(frozen=True, slots=True)
class RowDone:
    """A row's result as its answers give it, and whether a write may still land."""

    result: ItemResult
    #: When the row's last attempt that may have been applied without an answer
    #: ended (the engine's monotonic clock); None when every write was answered.
    ambiguous_at: float | None = None


class RowRunner:
    """Runs rows for the engine (and again for the settler); see :meth:`run`."""

    def __init__(
        self,
        calls: CallLoop,
        records: RecordMaker,
        facts: ServiceFacts,
        *,
        log: FilteringBoundLogger,
    ) -> None:
        self._calls = calls
        self._records = records
        self._facts = facts
        self._log = log

    async def run(self, row: Row) -> RowDone:
        """Make the row's calls; raises :class:`~.calls.Abandoned` or ``RunAborted`` as they do."""
        if row.op is Op.MIGRATE:
            migration = Migration(
                row, self._calls, log=self._log, records=self._records, facts=self._facts
            )
            return RowDone(await migration.run(), migration.ambiguous_at)
        if row.op is Op.ATTACH and self._facts.is_full(row.service_sid):
            return RowDone(self._records.pool_full(row))
        request = build_request(row.op, row.kind, row.service_sid, row.sender_sid)
        done = await self._calls.call(request, row.line)
        self._facts.observe(row.op, row.service_sid, done)
        made, reason = [done], done
        if done.error is None:
            verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[row.op]
        else:
            verdict = outcomes.for_error(row.op, done.error)
            if done.error.status == 404 and row.op in _CHECKED_404:
                verdict, check, unread = await self._judge_404(row, verdict)
                made += [check] if check is not None else []
                reason = check if unread and check is not None else done
        extra = fetched_fields(row.op, done.reply, outcomes.FETCHED_FIELDS)
        result = self._records.sent(row, verdict, made, extra=extra, reason=reason)
        return RowDone(result, done.ambiguous_at)

    async def _judge_404(
        self, row: Row, verdict: tuple[Outcome, Detail]
    ) -> tuple[tuple[Outcome, Detail], CallReport | None, bool]:
        """``verdict`` for a 404 on the row's service, unless that service does not exist.

        Returns the verdict, the call made to find out (None when the run knew) and
        whether that call failed for good. A service that does not exist makes it
        ``failed``/``service_not_found``; one that could not be read, the read's failure.
        """
        exists, check = await self._facts.exists(row.service_sid, row.line)
        if exists is False:
            return (Outcome.FAILED, Detail.SERVICE_NOT_FOUND), check, False
        if exists is None and check is not None and check.error is not None:
            return outcomes.for_error(Op.FETCH, check.error), check, True
        return verdict, check, False


__all__ = ["RowDone", "RowRunner"]
