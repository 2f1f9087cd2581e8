"""One row, start to end: its calls, and what their answers mean, for every kind.

:class:`RowRunner` runs a row for the engine (and again for the settler, see
:mod:`.settle`): a ``migrate`` row is the move its kind plans
(:func:`~.migration.migration_for`: :class:`~.migration.Move` or
:class:`~.migration.CopyThenDelete`); any other row is one sender action
(:class:`~.actions.SenderActions`). Both judge the answers by the outcome table
(:mod:`.outcomes`) with what the run knows of its services
(:class:`~.services.ServiceFacts`), and say whether a write may still land
(:class:`~.records.RowDone`).
"""

from __future__ import annotations

from collections.abc import Coroutine

from structlog.typing import FilteringBoundLogger

from ..model import Op, Row
from .actions import SenderActions
from .migration import migration_for
from .records import RowDone
from .steps import Placement, Steps


class RowRunner:
    """Runs rows through one run's :class:`SenderActions` (its calls, records, directory)."""

    def __init__(self, actions: SenderActions, *, log: FilteringBoundLogger) -> None:
        self.actions = actions
        #: The run's event log (the settler logs a sender left in no service here).
        self.log = log

    def run(self, row: Row) -> Coroutine[None, None, RowDone]:
        """The coroutine that makes the row's calls; awaiting it raises
        :class:`~.calls.Abandoned` or ``RunAborted`` as they do.

        Handed back, not awaited here: a coroutine level less on every resume of
        every row's call.
        """
        if row.op is Op.MIGRATE:
            return self._migrate(row)
        return self.actions.run(row)

    async def _migrate(self, row: Row) -> RowDone:
        move = self._move(row)
        return RowDone(await move.run(), move.ambiguous_at)

    async def mend(self, row: Row, place: Placement, *, finish: bool) -> RowDone | None:
        """Finish or undo a migrate row's move from where it was read back; None: not half done.

        See :meth:`~.steps.Steps.mend`; raises what the calls raise.
        """
        move = self._move(row)
        result = await move.mend(place, finish=finish)
        return None if result is None else RowDone(result, move.ambiguous_at)

    def _move(self, row: Row) -> Steps:
        actions = self.actions
        return migration_for(row)(
            row,
            actions.calls,
            log=self.log,
            records=actions.records,
            directory=actions.directory,
            facts=actions.facts,
        )


__all__ = ["RowDone", "RowRunner"]
