"""What every ``migrate`` row's move shares: its calls, steps and record, and its mending.

:class:`Steps` is the base of the two moves of :mod:`.migration`: it makes each
step's call (the first one not sent once the target is known full), keeps the
``steps`` a record lists, and turns a 404 from the source into "no such source
service" when that service does not exist. :meth:`Steps.mend` finishes or undoes
a move that a read-back (:mod:`.settle`) found half done, from its
:class:`Placement`: in neither service, the move is finished (the sender's last
row) or the sender is put back in the source; in both (an alpha sender created
in the target, not yet deleted from the source), it is deleted from the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from structlog.typing import FilteringBoundLogger

from ..model import Detail, ItemResult, Op, Outcome, Row
from ..twilio.wire import build_request
from . import outcomes
from .calls import CallLoop, Withheld
from .directory import ServiceDirectory
from .records import CallReport, RecordMaker, acted_on, ambiguous_at
from .services import ServiceFacts


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a read-back found a migrate row's sender: in its target, in its source."""

    in_target: bool
    in_source: bool
    #: The SID it has in the target, when it is there (an alpha sender's is the target's own).
    target_sid: str | None = None
    #: The SID it has in the source, when it is there.
    source_sid: str | None = None


class Steps:
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
        if self._target_full():
            return self._records.pool_full(self._row)  # the attach could only fail: do nothing
        try:
            return await self._move()
        except Withheld:  # known full while the first call waited: nothing was sent
            return self._records.pool_full(self._row)

    async def mend(self, place: Placement, *, finish: bool) -> ItemResult | None:
        """Finish or undo a move a read-back found half done; None when it is not.

        In neither service: with ``finish`` the move is finished (the row's aim),
        else the sender is put back in the source (``failed``/``rolled_back``). In
        both: deleted from the source. Every write here is made even if the run is
        stopping (the sender may be in no service).
        """
        if place.in_target and place.in_source:
            self._sid = place.target_sid or self._sid
            return await self._drop_source(place.source_sid or self._sid)
        if place.in_target or place.in_source:
            return None
        return await (self._finish() if finish else self._restore())

    def _target_full(self) -> bool:
        return self._facts.is_full(self._row.service_sid, self._row.kind)

    async def _move(self) -> ItemResult:
        raise NotImplementedError

    async def _finish(self) -> ItemResult:
        """In neither service: make the rest of the move."""
        raise NotImplementedError

    async def _restore(self) -> ItemResult:
        """In neither service: put the sender back in the source."""
        raise NotImplementedError

    async def _drop_source(self, sid: str) -> ItemResult:
        """In both services: delete the sender (``sid`` there) from the source."""
        delete = await self._call(Op.DETACH, self._source, "detach", sid, abandonable=False)
        if delete.error is not None and delete.error.status != 404:
            return self._done(*outcomes.for_error(Op.DETACH, delete.error))
        self._directory.note(self._row, self._source, None)
        return self._done(Outcome.SUCCEEDED, Detail.MIGRATED)

    async def _source_missing(self, *, abandonable: bool = True) -> bool:
        """After a 404 from the source: True when the source service does not exist."""
        exists, check = await self._facts.exists(
            self._source, self._row.line, abandonable=abandonable
        )
        if check is not None:  # a call of the row's (attempts), not a step of the move
            self._made.append(check)
        return exists is False

    async def _call(  # noqa: PLR0913 - the call, then keyword-only choices
        self,
        op: Op,
        service_sid: str,
        step: str,
        value: str,
        *,
        abandonable: bool = True,
        first: bool = False,
    ) -> CallReport:
        """Make one step's call. ``first``: the move's first call, not sent once the target
        is known full (raises :class:`Withheld`)."""
        request = build_request(op, self._row.kind, service_sid, value)
        report = await self._calls.call(
            request,
            self._row.line,
            abandonable=abandonable,
            withhold=self._target_full if first else None,
        )
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


__all__ = ["Placement", "Steps"]
