"""The account's 2010-04-01 listings: every number it owns, filtered and paged, over loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sandbox_helpers import ALPHA_SENDER, MG_A, PHONE_NUMBER, SHORT_CODE, Api, pn

from bulkops.model import SenderKind
from bulkops.sandbox import World

pytestmark = pytest.mark.asyncio

NUMBERS = ["+14155550100", "+14155550101", "+14155559999", "+442071838750"]
SHORT_CODES = ["12345", "123456", "55555"]


@pytest.fixture
def world() -> World:
    """Phone numbers and short codes named by number, one of each attached to service A."""
    world = World()
    world.add_service(MG_A)
    phones = world.seed_senders(PHONE_NUMBER, NUMBERS)
    codes = world.seed_senders(SHORT_CODE, SHORT_CODES)
    world.attach(MG_A, PHONE_NUMBER, phones[0])
    world.attach(MG_A, SHORT_CODE, codes[0])
    world.attach(MG_A, ALPHA_SENDER, "Brand")
    return world


async def follow(api: Api, kind: SenderKind, **params: str) -> tuple[list[dict], int]:
    """Every item of the listing, following next_page_uri; and how many pages it took."""
    listing = kind.spec.account_listing
    assert listing is not None
    status, page = await api.account_page(kind, **params)
    items, pages = [], 1
    while True:
        assert status == 200, page
        items += page[listing.list_key]
        if page["next_page_uri"] is None:
            return items, pages
        assert page["next_page_uri"].startswith("/2010-04-01/Accounts/")
        status, page, _ = await api.call("GET", api.base_url + page["next_page_uri"])
        pages += 1


@pytest.mark.parametrize(
    ("kind", "numbers"), [(PHONE_NUMBER, NUMBERS), (SHORT_CODE, SHORT_CODES)], ids=["pn", "sc"]
)
async def test_listing_holds_every_number_attached_or_not(
    api: Api, world: World, kind: SenderKind, numbers: list[str]
) -> None:
    """All of the account's numbers of the kind are listed, in SID order, with their SIDs."""
    items, pages = await follow(api, kind, PageSize="2")
    assert pages == 2
    assert [item["sid"] for item in items] == world.account_senders(kind)
    assert sorted(item[kind.number_field] for item in items) == sorted(numbers)
    for item in items:
        assert world.senders[item["sid"]].number == item[kind.number_field]
        assert item["account_sid"] == world.account_sid
        assert item["uri"].endswith(f"/{item['sid']}.json")


async def test_page_shape_and_paths(api: Api, world: World) -> None:
    """A page has page, page_size, start, end, and paths (not URLs) to itself and its neighbours."""
    _, first = await api.account_page(PHONE_NUMBER, PageSize="3")
    path = f"/2010-04-01/Accounts/{world.account_sid}/IncomingPhoneNumbers.json"
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 3, 0, 2)
    assert first["uri"] == first["first_page_uri"] == f"{path}?PageSize=3&Page=0"
    assert first["previous_page_uri"] is None
    last_sid = first["incoming_phone_numbers"][-1]["sid"]
    assert first["next_page_uri"] == f"{path}?PageSize=3&Page=1&PageToken=PA{last_sid}"
    _, second, _ = await api.call("GET", api.base_url + first["next_page_uri"])
    assert (second["page"], second["start"], second["end"]) == (1, 3, 3)
    assert second["next_page_uri"] is None
    _, back, _ = await api.call("GET", api.base_url + second["previous_page_uri"])
    assert back["incoming_phone_numbers"] == first["incoming_phone_numbers"]


async def test_default_page_size_is_50_and_1000_is_the_most(api: Api, world: World) -> None:
    """Without PageSize a page holds up to 50; PageSize 1001 is 400/20007."""
    world.seed_senders(PHONE_NUMBER, [pn(n) for n in range(1, 61)])
    _, page = await api.account_page(PHONE_NUMBER)
    assert (len(page["incoming_phone_numbers"]), page["page_size"]) == (50, 50)
    status, body = await api.account_page(PHONE_NUMBER, PageSize="1001")
    assert (status, body["code"]) == (400, 20007)


@pytest.mark.parametrize(
    ("kind", "wanted", "expected"),
    [
        (PHONE_NUMBER, "+14155550100", ["+14155550100"]),
        (PHONE_NUMBER, "+1415555010", ["+14155550100", "+14155550101"]),
        (PHONE_NUMBER, "555*99", ["+14155559999"]),
        (PHONE_NUMBER, "+14155550199", []),
        (SHORT_CODE, "12345", ["12345", "123456"]),
        (SHORT_CODE, "55555", ["55555"]),
        (SHORT_CODE, "999", []),
    ],
)
async def test_filter_matches_part_of_the_number(
    api: Api, kind: SenderKind, wanted: str, expected: list[str]
) -> None:
    """PhoneNumber/ShortCode match part of a number, * any digit, as Twilio documents."""
    listing = kind.spec.account_listing
    assert listing is not None
    items, _ = await follow(api, kind, **{listing.filter_param: wanted})
    assert sorted(item[kind.number_field] for item in items) == expected


async def test_filter_is_kept_in_page_paths(api: Api) -> None:
    """The filter stays in next_page_uri (URL-encoded), so page two is filtered too."""
    _, page = await api.account_page(PHONE_NUMBER, PhoneNumber="+1415", PageSize="1")
    query = parse_qs(urlsplit(page["next_page_uri"]).query)
    assert query["PhoneNumber"] == ["+1415"]
    assert "PhoneNumber=%2B1415" in page["next_page_uri"]
    items, pages = await follow(api, PHONE_NUMBER, PhoneNumber="+1415", PageSize="1")
    assert (len(items), pages) == (3, 3)


async def test_another_account_is_404(api: Api) -> None:
    """The listing of an account that is not the caller's answers 404/20404."""
    other = api.account_listing(PHONE_NUMBER, "AC" + "0" * 32)
    status, body, _ = await api.call("GET", other)
    assert (status, body["code"]) == (404, 20404)


async def test_listing_needs_credentials(api: Api) -> None:
    """Without credentials the listing answers 401/20003."""
    status, body, _ = await api.call("GET", api.account_listing(SHORT_CODE), headers={})
    assert (status, body["code"]) == (401, 20003)


async def test_a_large_account_lists_in_two_calls_of_1000(open_api) -> None:
    """2,000 phone numbers take two listing calls at PageSize=1000, as the stats count."""
    world = World()
    world.seed_senders(PHONE_NUMBER, [pn(n) for n in range(1, 2001)])
    async with open_api(world_=world) as api:
        items, pages = await follow(api, PHONE_NUMBER, PageSize="1000")
        stats = await api.stats()
    assert (len(items), pages) == (2000, 2)
    assert len({item["phone_number"] for item in items}) == 2000
    route = "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
    assert stats["by_route"] == {route: 2}


async def test_alpha_senders_are_in_no_account_listing(api: Api, world: World) -> None:
    """Alpha senders belong to services, not the account: the listings hold every other sender."""
    phones, _ = await follow(api, PHONE_NUMBER)
    codes, _ = await follow(api, SHORT_CODE)
    alpha = [s.sid for s in world.senders.values() if s.kind is ALPHA_SENDER]
    assert len(alpha) == 1
    assert {item["sid"] for item in phones + codes} == set(world.senders) - set(alpha)
