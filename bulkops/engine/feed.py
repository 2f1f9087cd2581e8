"""Which rows go to the network, and in what order for one sender.

:class:`Feed` turns a job's items into the rows to send: rows a resumed log
already has are skipped without a record; invalid rows, rows naming a number
the account does not own and rows that repeat an earlier row (the same op on
the same resolved sender) are recorded on the way. :class:`SenderTurns` makes
rows for one sender run one at a time, in file order. ``bulkops run --dry-run`` uses the
same :class:`Feed`, so what it reports is what a run would send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Iterator

from ..keys import DigestSet, key_digest
from ..model import InvalidRow, ItemResult, Row
from .records import RecordMaker


class Feed:
    """The rows to send, as one generator shared by every worker.

    Workers call ``next()`` only between calls and it never awaits, so one
    generator serves them all and no row is read before a worker is free.
    ``records`` makes the result of each invalid, unresolved or repeated row and
    ``record`` receives it; ``skip`` holds the key digests of rows already done
    (``--resume``). A row whose number did not resolve to a SID is
    ``failed``/``sender_not_found``.
    """

    def __init__(
        self,
        items: Iterable[Row | InvalidRow],
        *,
        record: Callable[[ItemResult], None],
        records: RecordMaker,
        skip: Collection[int] = frozenset(),
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._items = items
        self._record = record
        self._records = records
        self._skip = skip if len(skip) else None  # a fresh run: no lookup per row
        self._stopping = stopping
        self._seen = DigestSet()
        #: Rows not sent because ``skip`` has them (a resume); no record is written.
        self.skipped_done = 0

    def __iter__(self) -> Iterator[Row]:
        skip = self._skip
        for item in self._items:
            if self._stopping():
                return
            digest = key_digest(item.key)
            if skip is not None and digest in skip:
                self.skipped_done += 1
            elif isinstance(item, InvalidRow):  # before the duplicate check: bad rows
                self._record(self._records.invalid(item))  # may look alike
            elif not item.resolved:
                self._record(self._records.not_found(item))
            elif not self._seen.add(digest):
                self._record(self._records.duplicate(item))
            else:
                yield item


class Turn:
    """One row's place in its sender's line; see :meth:`SenderTurns.take`.

    An :class:`asyncio.Event` is made only when a row has to wait for this one:
    most senders have one row, and an event per row cost a microsecond a row.
    """

    __slots__ = ("_before", "_event", "_finished", "_sender", "_turns")

    def __init__(self, turns: SenderTurns, sender: str, before: Turn | None) -> None:
        self._turns, self._sender, self._before = turns, sender, before
        self._event: asyncio.Event | None = None
        self._finished = False

    @property
    def blocked(self) -> bool:
        """True while the row handed out before this one for the same sender is not done."""
        before = self._before
        return before is not None and not before._finished

    async def wait(self) -> None:
        """Wait until the row handed out before this one for the same sender is done."""
        before, self._before = self._before, None
        if before is not None and not before._finished:
            if before._event is None:
                before._event = asyncio.Event()
            await before._event.wait()

    def done(self) -> None:
        """Let the next row for the sender go (call it whatever became of this row)."""
        self._finished = True
        if self._event is not None:
            self._event.set()
        self._turns._release(self._sender, self)


class SenderTurns:
    """Rows for one sender run one at a time, in the order they were taken.

    Memory holds one turn per sender with a row in progress, not per row.
    """

    def __init__(self) -> None:
        self._last: dict[str, Turn] = {}

    def take(self, sender: str) -> Turn:
        """Claim the next place in ``sender``'s line; synchronous, so order is hand-out order."""
        last = self._last
        mine = last[sender] = Turn(self, sender, last.get(sender))
        return mine

    def _release(self, sender: str, mine: Turn) -> None:
        if self._last.get(sender) is mine:
            del self._last[sender]
