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

from structlog.typing import FilteringBoundLogger

from ..model import Op, Row
from .actions import SenderActions
from .migration import migration_for
from .records import RowDone


class RowRunner:
    """Runs rows through one run's :class:`SenderActions` (its calls, records, directory)."""

    def __init__(self, actions: SenderActions, *, log: FilteringBoundLogger) -> None:
        self.actions = actions
        self._log = log

    async def run(self, row: Row) -> RowDone:
        """Make the row's calls; raises :class:`~.calls.Abandoned` or ``RunAborted`` as they do."""
        actions = self.actions
        if row.op is Op.MIGRATE:
            move = migration_for(row)(
                row,
                actions.calls,
                log=self._log,
                records=actions.records,
                directory=actions.directory,
                facts=actions.facts,
            )
            return RowDone(await move.run(), move.ambiguous_at)
        return await actions.run(row)


__all__ = ["RowDone", "RowRunner"]
