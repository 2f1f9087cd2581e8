"""Numbers to SIDs: the fewest listing calls that resolve the numbers a job names.

A row may name a phone number (``+14155550100``) or a short code (``12345``)
instead of its SID; Twilio's Messaging API takes only SIDs, so before a run the
numbers are looked up in the account's listings (the 2010 API, see
:attr:`~bulkops.model.KindSpec.account_listing`), through a
:class:`NumberDirectory` (:class:`~bulkops.twilio.listing.AccountLister` is one).

Per kind, the job's distinct numbers decide how:

- at most :data:`FEW_NUMBERS`: one filtered GET per number;
- more: the account's whole listing, ``PageSize=1000``, stopping once every
  number is found, and switching to filtered GETs for the rest as soon as the
  pages read reach the numbers still missing. Calls stay within about twice the
  cheaper way, and never one per row on a large job.

A number the account does not own gets no SID: its row is recorded
``failed``/``sender_not_found`` and nothing is sent for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Coroutine, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .model import AccountListing, InvalidRow, Row, SenderKind

#: A job naming at most this many numbers of a kind looks each up with a filtered GET.
FEW_NUMBERS = 10


class NumberDirectory(Protocol):
    """Lists the account's numbers of one kind, page by page, as ``(number, SID)`` pairs."""

    def numbers(
        self, listing: AccountListing, number: str | None = None
    ) -> AsyncGenerator[list[tuple[str, str]], None]:
        """Every page of the listing, or (``number`` given) of the filtered GET for it."""
        ...


@dataclass(frozen=True, slots=True)
class Resolution:
    """The SIDs of the numbers a job names: ``(kind, number) → SID``, owned numbers only."""

    sids: Mapping[tuple[SenderKind, str], str]

    def apply(self, item: Row | InvalidRow) -> Row | InvalidRow:
        """``item`` with its SID filled in when it names a number the account owns."""
        if isinstance(item, InvalidRow) or item.resolved:
            return item
        sid = self.sids.get((item.kind, item.sender))
        return replace(item, sender_sid=sid) if sid else item

    def rows(self, items: Iterable[Row | InvalidRow]) -> Iterable[Row | InvalidRow]:
        """Each of ``items`` through :meth:`apply`, lazily."""
        return map(self.apply, items)


def numbers_named(items: Iterable[Row | InvalidRow]) -> dict[SenderKind, set[str]]:
    """The distinct numbers (not SIDs, not alpha texts) the valid rows name, by kind."""
    wanted: dict[SenderKind, set[str]] = {}
    for item in items:
        if isinstance(item, Row) and not item.resolved:
            wanted.setdefault(item.kind, set()).add(item.sender)
    return wanted


async def resolve_numbers(
    wanted: Mapping[SenderKind, set[str]], directory: NumberDirectory, *, few: int = FEW_NUMBERS
) -> Resolution:
    """Look up every number of ``wanted`` (see the module's strategy); absent ones stay absent.

    Raises what ``directory`` raises (e.g. :class:`~bulkops.errors.RunAborted`
    when a listing fails for good).
    """
    sids: dict[tuple[SenderKind, str], str] = {}
    for kind, numbers in wanted.items():
        listing = kind.spec.account_listing
        if listing is None or not numbers:
            continue
        remaining = set(numbers)
        if len(remaining) > few:
            await _scan(directory, listing, kind, remaining, sids)
        found = await _all_or_none(_lookup(directory, listing, n) for n in sorted(remaining))
        sids.update(
            ((kind, number), sid)
            for number, sid in zip(sorted(remaining), found, strict=True)
            if sid
        )
    return Resolution(sids)


async def _scan(
    directory: NumberDirectory,
    listing: AccountListing,
    kind: SenderKind,
    remaining: set[str],
    sids: dict[tuple[SenderKind, str], str],
) -> None:
    """Read the account's listing until ``remaining`` is empty or filtered GETs are cheaper.

    Found numbers leave ``remaining``; when the listing ends, the rest are not
    owned and ``remaining`` is emptied.
    """
    pages = 0
    async with aclosing(directory.numbers(listing)) as listed:
        async for page in listed:
            pages += 1
            for number, sid in page:
                if number in remaining and sid:
                    sids[kind, number] = sid
                    remaining.discard(number)
            if not remaining or pages >= len(remaining):
                return
    remaining.clear()  # the whole listing was read: the rest are not the account's


async def _all_or_none(lookups: Iterable[Coroutine[Any, Any, str | None]]) -> list[str | None]:
    """Every lookup's answer, run at once; when one raises, the others are cancelled and
    awaited before it propagates (none is left running against a client about to close)."""
    tasks = [asyncio.ensure_future(lookup) for lookup in lookups]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _lookup(directory: NumberDirectory, listing: AccountListing, number: str) -> str | None:
    """The SID of ``number`` by a filtered GET; exact matches only (the filter is looser)."""
    async with aclosing(directory.numbers(listing, number)) as listed:
        async for page in listed:
            for found, sid in page:
                if found == number and sid:
                    return sid
    return None


__all__ = ["FEW_NUMBERS", "NumberDirectory", "Resolution", "numbers_named", "resolve_numbers"]
