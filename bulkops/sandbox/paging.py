"""List paging shared by every listing: ``PageSize``, ``Page`` and ``PageToken`` over sorted SIDs.

Both APIs page the same way (spec: the ``PageSize``/``Page``/``PageToken`` query
parameters of every list operation): ``PageSize`` 1–1000, default 50; a
``PageToken`` is ``PA``/``PB`` + the last/first SID of the page it continues
from (after/before), so deletes between pages never make a client skip an item;
``Page`` without a token is an offset of ``Page × PageSize``. Where the page
URLs go differs (``meta`` in Messaging v1, top-level ``*_page_uri`` in
2010-04-01); that is the listing's business.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import problems

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Window:
    """One page of a sorted list of SIDs: ``sids[start:end]``."""

    #: The ``Page`` asked for (0 when absent); only for the client's bookkeeping.
    page: int
    #: Items per page.
    size: int
    #: The ``PageToken`` asked for, if any.
    token: str | None
    #: The page's SIDs.
    sids: Sequence[str]
    #: True when items follow the page / precede it.
    more_after: bool
    more_before: bool

    def url(self, here: str) -> str:
        """This page's URL, given ``here``: the list's URL (or path) up to ``PageSize=N``."""
        return f"{here}&Page={self.page}" + (f"&PageToken={self.token}" if self.token else "")

    def first_url(self, here: str) -> str:
        """The first page's URL (see :meth:`url`)."""
        return f"{here}&Page=0"

    def next_url(self, here: str) -> str | None:
        """The next page's URL, or None on the last page (see :meth:`url`)."""
        if not (self.sids and self.more_after):
            return None
        return f"{here}&Page={self.page + 1}&PageToken=PA{self.sids[-1]}"

    def previous_url(self, here: str) -> str | None:
        """The previous page's URL, or None on the first page (see :meth:`url`)."""
        if not (self.sids and self.more_before):
            return None
        return f"{here}&Page={max(self.page - 1, 0)}&PageToken=PB{self.sids[0]}"

    def meta(self, here: str, key: str) -> dict[str, object]:
        """Messaging v1's ``meta`` block of this page, listed under ``key`` (see :meth:`url`)."""
        return {
            "page": self.page,
            "page_size": self.size,
            "first_page_url": self.first_url(here),
            "previous_page_url": self.previous_url(here),
            "next_page_url": self.next_url(here),
            "key": key,
            "url": self.url(here),
        }


def window(query: Mapping[str, str], sids: Sequence[str], sid_pattern: re.Pattern[str]) -> Window:
    """The page of ``sids`` (sorted) that ``query`` asks for.

    Raises :class:`~.problems.TwilioProblem`: 400/20007 for a ``PageSize`` not
    1–1000 or a negative ``Page``, 400/21481 for a ``PageToken`` that is not
    ``PA``/``PB`` + a SID matching ``sid_pattern``.
    """
    size = _page_size(query.get("PageSize"))
    page = _page_number(query.get("Page"))
    token = query.get("PageToken") or None
    if token is None:
        start = min(page * size, len(sids))
        end = min(start + size, len(sids))
    else:
        direction, sid = token[:2], token[2:]
        if direction not in ("PA", "PB") or not sid_pattern.fullmatch(sid):
            raise problems.bad_page_token(token)
        if direction == "PA":
            start = bisect.bisect_right(sids, sid)
            end = min(start + size, len(sids))
        else:
            end = bisect.bisect_left(sids, sid)
            start = max(0, end - size)
    return Window(
        page=page,
        size=size,
        token=token,
        sids=sids[start:end],
        more_after=end < len(sids),
        more_before=start > 0,
    )


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise problems.bad_page_size(raw) from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise problems.bad_page_size(raw)
    return size


def _page_number(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        page = int(raw)
    except ValueError:
        raise problems.bad_page(raw) from None
    if page < 0:
        raise problems.bad_page(raw)
    return page
