"""Writes that may have landed without an answer are settled by reading back, never guessed.

A write that timed out or lost its connection after it was sent may be applied
by Twilio now or later: a client timeout does not mean "not applied". Such a
sender is *unsettled* until ``settle_s`` seconds after that attempt ended; then
it is read back (:class:`~.readback.Reader`): in the row's service, and for a
``migrate`` in its source too, each as its kind allows (a ``GET`` of the sender
by its SID, or the service's list read afresh for a sender named by its text).
A 404 there is judged like any other (:meth:`~.services.ServiceFacts.exists`):
a service that does not exist makes the row ``failed``/``service_not_found``.
It is read back:

* before the next row on the same sender runs, so a late write can never
  overtake a later operation (attach timed out, detach, then the attach lands);
* at the end of the run, against where the job's last row for it leaves it
  (attached to the row's service; for a detach, not attached to it; for a
  migrate, in the target and not in the source). If it is not there, that row's
  operation is applied again and the outcome recorded.

A migration found half done is finished or undone whichever row it is, since a
sender is never knowingly left in no service (:meth:`~.steps.Steps.mend`):
found in neither service, the move is finished when it is the sender's last row
(else the sender is put back in the source: ``rolled_back``); found in both (an
alpha sender created in the target, not yet deleted from the source), it is
deleted from the source. After each such write that again got no answer, the
sender is read back again, up to :data:`MAX_REPAIRS` times.

A row that failed with such an attempt is recorded only once it is read back,
with ``settled: true``: ``succeeded`` when the sender is where the row leaves
it, else its failure (or the outcome of what was done about it); its message
says what each read found and what was done. The read claims no more than it
saw: a detach read back as not attached is ``not_attached`` (the read cannot
tell whether this run's detach or someone else's did it), and the record's
status and code are those of the read that showed it. A row that succeeded is
recorded at once (its answer is definite), but its sender is still read back
before the next row and at the end. A write that lands after the settle period
is seen by nobody: ``bulkops verify`` checks later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import anyio

from ..model import Detail, ItemResult, Op, Outcome, Row
from . import outcomes
from .readback import ReadBack, Reader
from .records import CallReport, RowDone
from .rows import RowRunner

#: Takes a result to write, and the earlier record of the same row it replaces (or None).
Record = Callable[[ItemResult, ItemResult | None], None]

#: How many times settling one row may write (apply the row again, or finish or undo
#: a move) and read the sender back again, before its record says where it was found.
MAX_REPAIRS = 3


@dataclass(slots=True)
class _Unsettled:
    """A sender with a write that may still land, and the job's last row for it so far."""

    #: When it counts as settled (engine monotonic clock, seconds).
    deadline: float
    last: Row
    #: The last row's result when it is waiting to be read back (not yet recorded).
    pending: ItemResult | None = None
    #: The last row's result when it was recorded.
    recorded: ItemResult | None = None


@dataclass(slots=True)
class _Settling:
    """One row being settled: the result so far, and what reading back and mending made."""

    result: ItemResult
    #: Whether ``result`` was never recorded (its attempts then count in the record).
    unrecorded: bool
    checks: list[CallReport]
    notes: list[str]
    carried: int = 0
    #: A move was finished or undone; the row was applied again.
    mended: bool = False
    applied: bool = False

    def replace_result(self, result: ItemResult) -> None:
        """``result`` (of what settling did) becomes the row's; a migrate's steps add up."""
        earlier = self.result
        if self.unrecorded:
            self.carried += earlier.attempts
        before, after = earlier.resource.get("steps"), result.resource.get("steps")
        if isinstance(before, list) and isinstance(after, list):
            result = replace(result, resource={**result.resource, "steps": [*before, *after]})
        self.result, self.unrecorded = result, True

    @property
    def message(self) -> str:
        return "; ".join(self.notes)


class Settler:
    """Keeps the unsettled senders of one run and settles them; see the module docstring."""

    def __init__(
        self,
        runner: RowRunner,
        *,
        record: Record,
        settle_s: float,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        actions = runner.actions
        self._runner = runner
        self._records = actions.records
        self._reader = Reader(actions.calls, actions.directory, actions.facts)
        self._log = runner.log
        self._record = record
        self._settle_s = settle_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._unsettled: dict[str, _Unsettled] = {}

    @property
    def unsettled(self) -> int:
        """Senders with a write that may have landed unanswered, so far."""
        return len(self._unsettled)

    async def before(self, row: Row) -> None:
        """Before ``row`` runs: wait for its sender to settle and record a row waiting on it.

        Raises what :meth:`~.calls.CallLoop.call` raises (``Abandoned`` leaves the
        waiting row unrecorded, for a resume).
        """
        state = self._unsettled.get(row.identity)
        if state is None:
            return
        await self._wait_until(state.deadline)
        if state.pending is not None:
            result = await self._settle(state.last, state.pending, last=False)
            state.pending = None
            self._record(result, None)

    def after(self, row: Row, done: RowDone) -> ItemResult | None:
        """``row``'s result to record now, or None when it waits to be read back."""
        if done.ambiguous_at is None and not self._unsettled:  # nearly every row
            return done.result
        state = self._unsettled.get(row.identity)
        if done.ambiguous_at is None:
            if state is not None:
                state.last, state.recorded = row, done.result
            return done.result
        deadline = done.ambiguous_at + self._settle_s
        if state is None:
            state = self._unsettled[row.identity] = _Unsettled(deadline, row)
        state.deadline = max(state.deadline, deadline)
        state.last = row
        if done.result.outcome is Outcome.FAILED:
            state.pending, state.recorded = done.result, None
            return None
        state.recorded = done.result
        return done.result

    async def finish(self) -> None:
        """At the end of the run: settle every unsettled sender (at once, each at its deadline)."""
        async with anyio.create_task_group() as group:
            for state in self._unsettled.values():
                group.start_soon(self._finish, state)

    async def _finish(self, state: _Unsettled) -> None:
        await self._wait_until(state.deadline)
        if state.pending is not None:
            result = await self._settle(state.last, state.pending, last=True)
            state.pending = None
            self._record(result, None)
            return
        earlier = state.recorded
        if earlier is None or earlier.outcome is not Outcome.SUCCEEDED:
            return  # a definite failure: its record already says the world is not so
        read = await self._reader.read(state.last)
        if not read.readable or (read.missing is None and read.holds(state.last)):
            return  # as recorded, or it cannot be told: the record stands
        settling = _Settling(earlier, unrecorded=False, checks=[], notes=[])
        self._record(await self._settle_from(state.last, settling, read, last=True), earlier)

    async def _settle(self, row: Row, provisional: ItemResult, *, last: bool) -> ItemResult:
        """The record of a row that failed with a possibly-applied write, as read back."""
        settling = _Settling(provisional, unrecorded=True, checks=[], notes=[])
        return await self._settle_from(row, settling, await self._reader.read(row), last=last)

    async def _settle_from(
        self, row: Row, settling: _Settling, read: ReadBack, *, last: bool
    ) -> ItemResult:
        """Judge ``read``; mend or apply again while that may help; the record it ends with.

        ``last``: the row is its sender's last so far (a row that is not there is
        applied again). Each write that gets no answer is read back after the
        settle period, up to :data:`MAX_REPAIRS` writes.
        """
        repairs = 0
        while True:
            settling.checks += read.checks
            settling.notes.append(read.where(row))
            if (
                not read.readable
                or read.missing is not None
                or read.holds(row)
                or repairs == MAX_REPAIRS
                or (repair := await self._repair(row, settling, read, last=last)) is None
            ):
                return self._judged(row, settling, read)
            repairs += 1
            settling.replace_result(repair.result)
            if repair.ambiguous_at is None or repair.result.outcome is not Outcome.FAILED:
                return self._records.settled(
                    settling.result,
                    settling.checks,
                    verdict=None,
                    message=settling.message,
                    carried_attempts=settling.carried,
                )
            await self._wait_until(repair.ambiguous_at + self._settle_s)
            read = await self._reader.read(row)

    async def _repair(
        self, row: Row, settling: _Settling, read: ReadBack, *, last: bool
    ) -> RowDone | None:
        """Mend a half-done move, or apply the sender's last row again; None: nothing to do."""
        place = read.placement
        if place is not None:
            done = await self._runner.mend(row, place, finish=last)
            if done is not None:
                settling.mended = True
                if place.in_target:
                    settling.notes.append("deleted from the source")
                elif last:
                    settling.notes.append(f"moved on to {row.service_sid}")
                else:
                    settling.notes.append(f"put back in {row.from_service_sid}")
                return done
        if not last or settling.applied:
            return None
        settling.applied = True
        settling.notes.append("applied again")
        return await self._runner.run(row)

    def _judged(self, row: Row, settling: _Settling, read: ReadBack) -> ItemResult:
        """The record of a row whose last read is final: as that read shows it."""
        result, row_op = settling.result, row.op
        verdict: tuple[Outcome, Detail] | None = None
        decided_by: CallReport | None = None
        if not read.readable:
            pass  # the result's own failure, and why it could not be told
        elif (gone := read.missing) is not None:
            verdict, decided_by = (Outcome.FAILED, Detail.SERVICE_NOT_FOUND), gone.decided_by
        elif read.holds(row):
            # A detach read back as not there cannot tell who detached it: not_attached.
            detail = Detail.NOT_ATTACHED if row_op is Op.DETACH else outcomes.SUCCESS[row_op]
            verdict, decided_by = (Outcome.SUCCEEDED, detail), read.target.decided_by
            if read.target.sid is not None and row_op is not Op.DETACH:
                result = replace(result, sender_sid=read.target.sid)
        elif (place := read.placement) is not None and not place.in_target:
            verdict, decided_by = self._left(settling, read, place.in_source)
        return self._records.settled(
            result,
            settling.checks,
            verdict=verdict,
            message=settling.message,
            carried_attempts=settling.carried,
            decided_by=decided_by,
        )

    def _left(
        self, settling: _Settling, read: ReadBack, in_source: bool
    ) -> tuple[tuple[Outcome, Detail] | None, CallReport | None]:
        """A move left undone: ``rolled_back`` when it was put back, or in no service (logged)."""
        assert read.source is not None  # a placement has both
        if in_source:
            if settling.mended:
                return (Outcome.FAILED, Detail.ROLLED_BACK), read.source.decided_by
            return None, None
        result = settling.result
        self._log.error(
            "bulkops.settle.in_no_service",
            line=result.line,
            sender=result.sender,
            source=read.source.service_sid,
            target=read.target.service_sid,
        )
        return (Outcome.FAILED, Detail.ROLLBACK_FAILED), read.target.decided_by

    async def _wait_until(self, deadline: float) -> None:
        delay_s = deadline - self._monotonic()
        if delay_s > 0:
            await self._sleep(delay_s)


__all__ = ["MAX_REPAIRS", "Settler"]
