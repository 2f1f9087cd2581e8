"""Writes that may have landed without an answer are settled by reading back, never guessed.

A write that timed out or lost its connection after it was sent may be applied
by Twilio now or later: a client timeout does not mean "not applied". Such a
sender is *unsettled* until ``settle_s`` seconds after that attempt ended; then
it is read back in the row's service, as its kind allows: a ``GET`` of the
sender by its SID, or, for a sender named by its text (an alpha sender, whose
``AI…`` SID exists only in a service), the service's list read afresh through
the run's :class:`~.directory.ServiceDirectory`:

* before the next row on the same sender runs, so a late write can never
  overtake a later operation (attach timed out, detach, then the attach lands);
* at the end of the run, against where the job's last row for it leaves it
  (attached to the row's service; for a detach, not attached to it). If it is
  not there, that row's operation is applied again and the outcome recorded.

A row that failed with such an attempt is recorded only once it is read back,
with ``settled: true``: ``succeeded`` when the sender is where the row leaves
it, else its failure (or, for a sender's last row, the outcome of applying it
again). A row that succeeded is recorded at once (its answer is definite), but
its sender is still read back before the next row and at the end. A write that
lands after the settle period is seen by nobody: ``bulkops verify`` checks later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import anyio

from ..model import ItemResult, Op, Outcome, Row
from ..twilio.wire import build_request
from . import outcomes
from .records import CallReport, RowDone
from .rows import RowRunner

#: Takes a result to write, and the earlier record of the same row it replaces (or None).
Record = Callable[[ItemResult, ItemResult | None], None]


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


@dataclass(frozen=True, slots=True)
class _ReadBack:
    """What reading a sender back found: is it where its row leaves it, and how it was read."""

    #: True when it is where the row leaves it; None when it could not be read.
    holds: bool | None
    #: The read's calls (one GET, or the pages of the service's list).
    checks: list[CallReport]
    #: The SID the sender has in the row's service (None: not there, or not read).
    sid: str | None = None


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
        self._runner = runner
        self._calls = runner.actions.calls
        self._records = runner.actions.records
        self._directory = runner.actions.directory
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
        read = await self._read_back(state.last)
        if read.holds is False:
            self._record(await self._apply_again(state.last, read), earlier)

    async def _settle(self, row: Row, provisional: ItemResult, *, last: bool) -> ItemResult:
        """The record of a row that failed with a possibly-applied write, as read back."""
        read = await self._read_back(row)
        if read.holds:
            return self._settled(provisional, read)
        if read.holds is None or not last:
            where = self._where(row, read)
            return self._records.settled(provisional, read.checks, verdict=None, message=where)
        return await self._apply_again(row, read, carried=provisional.attempts)

    async def _apply_again(self, row: Row, read: _ReadBack, *, carried: int = 0) -> ItemResult:
        """The job's last row for a sender that is not where it leaves it: applied again.

        ``carried`` counts the attempts of the row's result that was never recorded.
        """
        where = self._where(row, read)
        done = await self._runner.run(row)
        result, checks = done.result, list(read.checks)
        if done.ambiguous_at is not None and result.outcome is Outcome.FAILED:
            await self._wait_until(done.ambiguous_at + self._settle_s)
            again = await self._read_back(row)
            if again.holds:
                carried += sum(check.attempts for check in checks)
                return self._settled(result, again, carried=carried)
            checks += again.checks
        return self._records.settled(
            result,
            checks,
            verdict=None,
            message=f"{where}; applied again",
            carried_attempts=carried,
        )

    def _settled(self, result: ItemResult, read: _ReadBack, *, carried: int = 0) -> ItemResult:
        """``result`` turned into success: the read-back found the sender in place.

        A sender found in the service by its text is recorded with the SID it has there.
        """
        row_op = Op(result.op)
        if read.sid is not None and row_op is not Op.DETACH:
            result = replace(result, sender_sid=read.sid)
        verdict = Outcome.SUCCEEDED, outcomes.SUCCESS[row_op]
        where = "not attached to" if row_op is Op.DETACH else "attached to"
        message = f"read back after the settle period: {where} {result.service_sid}"
        return self._records.settled(
            result, read.checks, verdict=verdict, message=message, carried_attempts=carried
        )

    async def _read_back(self, row: Row) -> _ReadBack:
        """Whether the sender is where ``row`` leaves it (None: the read failed), and the read.

        By its SID, one ``GET`` of the sender in the row's service (404: not there);
        by its text, the service's list read afresh (see the module docstring).
        """
        leaves_attached = row.op is not Op.DETACH
        if not row.sender_sid:
            found = await self._directory.reread(row, row.service_sid)
            if found.error is not None:
                return _ReadBack(None, found.calls)
            return _ReadBack((found.sid is not None) is leaves_attached, found.calls, found.sid)
        request = build_request(Op.FETCH, row.kind, row.service_sid, row.sender_sid)
        check = await self._calls.call(request, row.line)
        if check.error is not None and check.error.status != 404:
            return _ReadBack(None, [check])
        attached = check.error is None
        sid = row.sender_sid if attached else None
        return _ReadBack(attached is leaves_attached, [check], sid)

    @staticmethod
    def _where(row: Row, read: _ReadBack) -> str:
        if read.holds is None:
            return (
                f"could not read it back after the settle period ({read.checks[-1].step('read')})"
            )
        state = "attached to" if row.op is Op.DETACH else "not attached to"
        return f"read back after the settle period: {state} {row.service_sid}"

    async def _wait_until(self, deadline: float) -> None:
        delay_s = deadline - self._monotonic()
        if delay_s > 0:
            await self._sleep(delay_s)


__all__ = ["Settler"]
