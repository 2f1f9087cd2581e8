"""Where a sender named by its text sits: its SID in each service, listed once per run.

An alpha sender has no SID of its own: Twilio creates an ``AI…`` SID when the
text is added to a service, and fetch and delete take that SID. So the first
row that needs it lists the service's senders of that kind (paged, through the
run's :class:`~bulkops.engine.calls.CallLoop`: within ``--rate`` and retried);
rows after it read the cached list, and what the run itself creates or deletes
is noted on top of it (:meth:`ServiceDirectory.note`), so the cache stays true
without listing again. Only rows whose sender has no SID of its own come here.
A write that may have landed unanswered is the one thing the run cannot note:
settling it reads the service's list again (:meth:`ServiceDirectory.reread`).
A ``fetch`` row lists its service afresh too: a fetch asks Twilio what is there
now (someone else may have added or removed the text since the list was read),
and its record counts the list calls as its attempts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..errors import ApiError, PermanentError
from ..model import Op, Row, SenderKind
from ..twilio.wire import Request, list_path, read_page
from .calls import CallLoop
from .records import CallReport

#: Items per list page: the most Twilio's spec allows.
PAGE_SIZE = 1000


@dataclass(slots=True)
class Lookup:
    """Where a text sender is in one service: its SID (None: not there), and how it was learnt."""

    sid: str | None
    #: List calls this lookup made (none when the list was cached).
    calls: list[CallReport] = field(default_factory=list)
    #: Why the list could not be read (its last call's error); ``sid`` is None then.
    error: ApiError | None = None


_Key = tuple[str, SenderKind]


class ServiceDirectory:
    """The SIDs of text senders per service and kind, listed at most once per run."""

    def __init__(self, calls: CallLoop, *, page_size: int = PAGE_SIZE) -> None:
        self._calls = calls
        self._page_size = page_size
        #: (service, kind) → text → SID, as listed.
        self._listed: dict[_Key, dict[str, str]] = {}
        #: (service, kind) → text → SID (None: deleted), as this run changed it since.
        self._changes: dict[_Key, dict[str, str | None]] = {}
        self._locks: dict[_Key, asyncio.Lock] = {}

    def note(self, row: Row, service_sid: str, sid: str | None) -> None:
        """Remember that ``row``'s sender is now in ``service_sid`` as ``sid`` (None: gone)."""
        if not row.sender_sid:
            self._changes.setdefault((service_sid, row.kind), {})[row.sender] = sid

    async def find(self, row: Row, service_sid: str, *, abandonable: bool = True) -> Lookup:
        """The SID ``row``'s sender has in ``service_sid``, listing the service if not yet done.

        A ``fetch`` row's own service is listed afresh (:meth:`reread`): a fetch asks
        Twilio. ``abandonable`` is passed to the list calls (see
        :meth:`~bulkops.engine.calls.CallLoop.call`): raises
        :class:`~bulkops.engine.calls.Abandoned` when the run stops first.
        """
        if row.op is Op.FETCH and service_sid == row.service_sid:
            return await self.reread(row, service_sid, abandonable=abandonable)
        key = (service_sid, row.kind)
        made: list[CallReport] = []
        if key not in self._listed and row.sender not in self._changes.get(key, {}):
            async with self._locks.setdefault(key, asyncio.Lock()):
                if key not in self._listed:  # another row may have listed it meanwhile
                    listed, error = await self._list(row, service_sid, made, abandonable)
                    if error is not None:
                        return Lookup(None, made, error)
                    self._listed[key] = listed
        changes = self._changes.get(key, {})
        if row.sender in changes:
            return Lookup(changes[row.sender], made)
        return Lookup(self._listed[key].get(row.sender), made)

    async def reread(self, row: Row, service_sid: str, *, abandonable: bool = True) -> Lookup:
        """The SID ``row``'s sender has in ``service_sid`` now: the service listed afresh.

        For a read-back after a write that may have landed unanswered: what the
        cache holds for this sender is replaced by what the list says; other
        senders' entries stay as they are. Raises what :meth:`find` raises.
        """
        key = (service_sid, row.kind)
        made: list[CallReport] = []
        listed, error = await self._list(row, service_sid, made, abandonable)
        if error is not None:
            return Lookup(None, made, error)
        self._listed.setdefault(key, listed)
        sid = listed.get(row.sender)
        self._changes.setdefault(key, {})[row.sender] = sid
        return Lookup(sid, made)

    async def _list(
        self, row: Row, service_sid: str, made: list[CallReport], abandonable: bool
    ) -> tuple[dict[str, str], ApiError | None]:
        kind = row.kind
        listed: dict[str, str] = {}
        url: str | None = list_path(kind, service_sid, self._page_size)
        while url is not None:
            request = Request("GET", url)
            report = await self._calls.call(request, row.line, abandonable=abandonable)
            made.append(report)
            if report.error is not None:
                return listed, report.error
            assert report.reply is not None  # no error: an answer
            try:
                items, next_url = read_page(report.reply, kind, target=request.target)
            except PermanentError as exc:
                return listed, exc
            for item in items:
                text, sid = item.get(kind.number_field), item.get("sid")
                if isinstance(text, str) and isinstance(sid, str):
                    listed[text] = sid
            url = next_url if next_url != url else None
        return listed, None


__all__ = ["Lookup", "ServiceDirectory"]
