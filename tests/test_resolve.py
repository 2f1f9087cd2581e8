"""Numbers to SIDs: which listing calls resolve a job's numbers, and what they resolve to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from support import mg, pn, sc

from bulkops.model import AccountListing, InvalidRow, Op, Row, SenderKind
from bulkops.resolve import FEW_NUMBERS, Resolution, numbers_named, resolve_numbers

PHONE = SenderKind.PHONE_NUMBER
SHORT = SenderKind.SHORT_CODE


def phone(n: int) -> str:
    return f"+1415555{n:04d}"


class FakeDirectory:
    """An account's numbers, served in pages; counts the calls a resolution makes."""

    def __init__(self, owned: dict[SenderKind, dict[str, str]], *, page_size: int = 1000) -> None:
        self.owned = owned
        self.page_size = page_size
        self.listings: list[str] = []  # one entry per page of the whole listing
        self.filtered: list[str] = []  # one entry per filtered GET

    def _kind(self, listing: AccountListing) -> SenderKind:
        (kind,) = (k for k in SenderKind if k.spec.account_listing == listing)
        return kind

    async def numbers(
        self, listing: AccountListing, number: str | None = None
    ) -> AsyncGenerator[list[tuple[str, str]], None]:
        await asyncio.sleep(0)
        pairs = sorted(self.owned.get(self._kind(listing), {}).items())
        if number is not None:
            self.filtered.append(number)
            # Twilio's filter matches partial numbers: it may return more than the one asked for.
            yield [(n, sid) for n, sid in pairs if number in n]
            return
        for start in range(0, max(len(pairs), 1), self.page_size):
            self.listings.append(listing.list_key)
            yield pairs[start : start + self.page_size]


def account(n: int) -> dict[SenderKind, dict[str, str]]:
    """An account of ``n`` phone numbers, +14155550000…, with SIDs pn(0)…"""
    return {PHONE: {phone(i): pn(i) for i in range(n)}}


def test_few_numbers_are_looked_up_one_filtered_get_each() -> None:
    """A job naming few numbers makes one filtered GET per number and lists nothing whole."""
    directory = FakeDirectory(account(2000))
    wanted = {PHONE: {phone(5), phone(1500)}}
    resolution = asyncio.run(resolve_numbers(wanted, directory))
    assert resolution.sids == {(PHONE, phone(5)): pn(5), (PHONE, phone(1500)): pn(1500)}
    assert sorted(directory.filtered) == [phone(5), phone(1500)]
    assert directory.listings == []


def test_a_filtered_get_takes_only_the_exact_number() -> None:
    """Twilio's filter also matches longer numbers; only the exact one resolves."""
    directory = FakeDirectory({PHONE: {"+141555500011": pn(1), "+14155550001": pn(2)}})
    resolution = asyncio.run(resolve_numbers({PHONE: {"+14155550001"}}, directory))
    assert resolution.sids == {(PHONE, "+14155550001"): pn(2)}


def test_many_numbers_on_a_2000_number_account_take_a_handful_of_listing_calls() -> None:
    """2,000 numbers named on a 2,000-number account: two pages of 1,000, no call per row."""
    directory = FakeDirectory(account(2000))
    wanted = {PHONE: {phone(i) for i in range(2000)}}
    resolution = asyncio.run(resolve_numbers(wanted, directory))
    assert len(resolution.sids) == 2000
    assert resolution.sids[PHONE, phone(1999)] == pn(1999)
    assert len(directory.listings) == 2
    assert directory.filtered == []


def test_the_listing_stops_once_every_number_is_found() -> None:
    """Numbers all on the first page: the second page is never asked for."""
    directory = FakeDirectory(account(5000))
    wanted = {PHONE: {phone(i) for i in range(FEW_NUMBERS + 1)}}
    asyncio.run(resolve_numbers(wanted, directory))
    assert len(directory.listings) == 1


def test_numbers_the_account_lacks_stay_unresolved_after_the_whole_listing() -> None:
    """A number not in the account's listing gets no SID, and costs no extra call."""
    directory = FakeDirectory(account(1500))
    wanted = {PHONE: {phone(i) for i in range(1490, 1520)}}  # 10 owned, 20 not
    resolution = asyncio.run(resolve_numbers(wanted, directory))
    assert set(resolution.sids) == {(PHONE, phone(i)) for i in range(1490, 1500)}
    assert (len(directory.listings), directory.filtered) == (2, [])


def test_a_long_listing_switches_to_filtered_gets_for_the_few_numbers_left() -> None:
    """Once the pages read reach the numbers still missing, the rest are asked for directly."""
    directory = FakeDirectory(account(20_000), page_size=100)
    wanted = {PHONE: {phone(i) for i in range(FEW_NUMBERS + 1)} | {phone(19_999)}}
    resolution = asyncio.run(resolve_numbers(wanted, directory))
    assert len(resolution.sids) == FEW_NUMBERS + 2
    assert len(directory.listings) == 1  # the first page held all but one number
    assert directory.filtered == [phone(19_999)]


def test_each_kind_is_resolved_through_its_own_listing() -> None:
    """Short codes go to SMS/ShortCodes.json, phone numbers to IncomingPhoneNumbers.json."""
    directory = FakeDirectory({PHONE: {phone(1): pn(1)}, SHORT: {"12345": sc(1)}})
    wanted = {PHONE: {phone(1)}, SHORT: {"12345", "99999"}}
    resolution = asyncio.run(resolve_numbers(wanted, directory))
    assert resolution.sids == {(PHONE, phone(1)): pn(1), (SHORT, "12345"): sc(1)}


def test_numbers_named_collects_numbers_only_and_resolution_fills_their_sids() -> None:
    """SIDs, alpha texts and invalid rows need no lookup; resolved rows carry their SID."""
    items: list[Row | InvalidRow] = [
        Row(2, Op.ATTACH, mg(1), phone(1), PHONE),
        Row(3, Op.ATTACH, mg(1), pn(9), PHONE),
        Row(4, Op.ATTACH, mg(1), "12345", SHORT),
        Row(5, Op.ATTACH, mg(1), "Acme", SenderKind.ALPHA_SENDER),
        Row(6, Op.ATTACH, mg(1), phone(2), PHONE),
        InvalidRow(7, "attach", mg(1), "+1", "bad"),
    ]
    assert numbers_named(items) == {PHONE: {phone(1), phone(2)}, SHORT: {"12345"}}
    resolution = Resolution({(PHONE, phone(1)): pn(1)})
    resolved = list(resolution.rows(items))
    assert [getattr(r, "sender_sid", None) for r in resolved] == [pn(1), pn(9), "", "", "", "+1"]
    assert resolved[0].key == Row(9, Op.ATTACH, mg(1), pn(1), PHONE).key  # one sender, two names
    assert [r.resolved for r in resolved if isinstance(r, Row)] == [True, True, False, True, False]


@pytest.mark.parametrize("few", [0, 3])
def test_an_empty_job_makes_no_call(few: int) -> None:
    """Nothing named, nothing asked."""
    directory = FakeDirectory(account(10))
    resolution = asyncio.run(resolve_numbers({}, directory, few=few))
    assert resolution.sids == {}
    assert (directory.listings, directory.filtered) == ([], [])


def test_a_lookup_that_fails_cancels_the_others_before_it_propagates() -> None:
    """No filtered GET is left running (against a client about to close) when one fails."""
    from bulkops.errors import RunAborted

    class Failing(FakeDirectory):
        def __init__(self) -> None:
            super().__init__({})
            self.cancelled: list[str] = []
            self.waiting = 0
            self.others_waiting = asyncio.Event()

        async def numbers(
            self, listing: AccountListing, number: str | None = None
        ) -> AsyncGenerator[list[tuple[str, str]], None]:
            if number == phone(0):
                await self.others_waiting.wait()  # fail once both others are in flight
                raise RunAborted("listing failed")
            self.waiting += 1
            if self.waiting == 2:
                self.others_waiting.set()
            try:
                await asyncio.Event().wait()  # never answered: only cancelling ends it
            except asyncio.CancelledError:
                self.cancelled.append(number or "")
                raise
            yield []

    directory = Failing()

    async def resolve() -> int:
        with pytest.raises(RunAborted, match="listing failed"):
            await resolve_numbers({PHONE: {phone(n) for n in range(3)}}, directory)
        return len(asyncio.all_tasks())

    assert asyncio.run(resolve()) == 1  # only this one: the other lookups were awaited
    assert sorted(directory.cancelled) == [phone(1), phone(2)]
