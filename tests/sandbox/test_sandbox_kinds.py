"""PhoneNumbers and AlphaSenders beside ShortCodes: Twilio's rules per kind, over loopback."""

from __future__ import annotations

import re

import pytest
from sandbox_helpers import (
    ALPHA_SENDER,
    MG_A,
    MG_B,
    PHONE_NUMBER,
    PN_UNKNOWN,
    SC_UNKNOWN,
    SHORT_CODE,
    Api,
    pn,
    seeded_world,
    sid_of,
)
from support import sc

from bulkops.model import SenderKind
from bulkops.sandbox import World

pytestmark = pytest.mark.asyncio

OWNED = [SHORT_CODE, PHONE_NUMBER]
AI_SID = re.compile(r"^AI[0-9a-f]{32}$")


def expect_error(result: tuple[int, dict], http_status: int, code: int) -> None:
    status, body = result
    assert (status, body["status"], body["code"]) == (http_status, http_status, code)


@pytest.fixture
def world() -> World:
    """Services A and B with short codes 1..10 and phone numbers 1..10, attached to nothing."""
    return seeded_world(phone_numbers=10)


@pytest.mark.parametrize("kind", OWNED, ids=lambda k: k.value)
async def test_create_fetch_delete_round_trip(api: Api, world: World, kind: SenderKind) -> None:
    """Each owned kind is created by SID (201), fetched (200) and deleted (204) in its own path."""
    sid = sid_of(kind, 3)
    status, created = await api.create(MG_A, sid, kind)
    assert status == 201
    assert created["sid"] == sid
    assert created[kind.number_field] == world.senders[sid].number
    assert created["url"] == f"{api.collection(MG_A, kind)}/{sid}"
    assert await api.fetch(MG_A, sid, kind) == (200, created)
    assert (await api.delete(MG_A, sid, kind))[0] == 204
    assert world.senders[sid].service_sid is None


async def test_phone_number_body_has_its_number_and_country(api: Api, world: World) -> None:
    """A phone number's resource carries phone_number (E.164) and country_code, no short_code."""
    _, body = await api.create(MG_A, pn(1), PHONE_NUMBER)
    assert re.fullmatch(r"\+1[2-9]\d{2}[2-9]\d{6}", body["phone_number"])
    assert body["country_code"] == "US"
    assert "short_code" not in body
    assert "Voice" in body["capabilities"]


@pytest.mark.parametrize("kind", OWNED, ids=lambda k: k.value)
async def test_owned_kinds_follow_twilios_refusals(api: Api, kind: SenderKind) -> None:
    """21710 here, 21712 elsewhere, 80303 for an unknown SID, 404 for fetch of one not here."""
    sid = sid_of(kind, 1)
    await api.create(MG_B, sid, kind)
    expect_error(await api.create(MG_B, sid, kind), 409, 21710)
    expect_error(await api.create(MG_A, sid, kind), 409, 21712)
    unknown = {SHORT_CODE: SC_UNKNOWN, PHONE_NUMBER: PN_UNKNOWN}[kind]
    expect_error(await api.create(MG_A, unknown, kind), 400, 80303)
    expect_error(await api.fetch(MG_A, sid, kind), 404, 20404)
    expect_error(await api.delete(MG_A, sid, kind), 404, 20404)


async def test_a_sid_of_another_kind_is_malformed_in_this_collection(api: Api) -> None:
    """A short code SID sent as PhoneNumberSid is 400/21421, and the other way round."""
    expect_error(await api.create(MG_A, sc(1), PHONE_NUMBER), 400, 21421)
    expect_error(await api.create(MG_A, pn(1), SHORT_CODE), 400, 21421)


async def test_kinds_are_listed_apart(api: Api) -> None:
    """A service's PhoneNumbers list holds only its phone numbers, ShortCodes its short codes."""
    await api.create(MG_A, pn(2), PHONE_NUMBER)
    await api.create(MG_A, sc(2))
    await api.create(MG_A, "Brand", ALPHA_SENDER)
    for kind, expected in ((PHONE_NUMBER, pn(2)), (SHORT_CODE, sc(2))):
        _, page = await api.page(MG_A, kind)
        assert [item["sid"] for item in page[kind.list_key]] == [expected]
        assert page["meta"]["key"] == kind.list_key
    _, alpha = await api.page(MG_A, ALPHA_SENDER)
    assert [item["alpha_sender"] for item in alpha["alpha_senders"]] == ["Brand"]


async def test_phone_numbers_and_short_codes_share_the_pool_alpha_senders_do_not(
    open_api,
) -> None:
    """At the limit, counting phone numbers and short codes together, both get 412/21714;
    an alpha sender is still added."""
    world = World(max_senders_per_service=3)
    world.seed(
        service_sids=[MG_A], short_code_sids=[sc(1), sc(2)], phone_number_sids=[pn(1), pn(2)]
    )
    async with open_api(world_=world) as api:
        assert (await api.create(MG_A, sc(1)))[0] == 201
        assert (await api.create(MG_A, pn(1), PHONE_NUMBER))[0] == 201
        assert (await api.create(MG_A, "Brand", ALPHA_SENDER))[0] == 201
        assert (await api.create(MG_A, sc(2)))[0] == 201
        expect_error(await api.create(MG_A, pn(2), PHONE_NUMBER), 412, 21714)
        assert (await api.create(MG_A, "Other", ALPHA_SENDER))[0] == 201
        assert (await api.delete(MG_A, sc(1)))[0] == 204
        assert (await api.create(MG_A, pn(2), PHONE_NUMBER))[0] == 201
    assert world.pool_size(MG_A) == 3


async def test_alpha_sender_is_created_by_its_text(api: Api, world: World) -> None:
    """POST AlphaSender=<text> answers 201 with a new AI SID; the body has no country_code."""
    status, body = await api.create(MG_A, "My Brand", ALPHA_SENDER)
    assert status == 201
    assert AI_SID.match(body["sid"])
    assert body["alpha_sender"] == "My Brand"
    assert body["service_sid"] == MG_A
    assert body["capabilities"] == ["SMS"]
    assert "country_code" not in body
    assert body["url"] == f"{api.collection(MG_A, ALPHA_SENDER)}/{body['sid']}"
    assert await api.fetch(MG_A, body["sid"], ALPHA_SENDER) == (200, body)
    assert world.by_number(ALPHA_SENDER, "My Brand", service_sid=MG_A) is not None


async def test_same_text_twice_in_one_service_is_409_21710(api: Api, world: World) -> None:
    """A second create of the same text in the service answers 409/21710 and creates nothing."""
    _, first = await api.create(MG_A, "Brand", ALPHA_SENDER)
    expect_error(await api.create(MG_A, "Brand", ALPHA_SENDER), 409, 21710)
    assert world.pool(MG_A, ALPHA_SENDER) == [first["sid"]]


async def test_one_text_in_several_services_has_one_sid_each(api: Api, world: World) -> None:
    """The same text is added to two services, each under its own AI SID."""
    _, in_a = await api.create(MG_A, "Brand", ALPHA_SENDER)
    _, in_b = await api.create(MG_B, "Brand", ALPHA_SENDER)
    assert in_a["sid"] != in_b["sid"]
    assert (in_a["service_sid"], in_b["service_sid"]) == (MG_A, MG_B)
    expect_error(await api.fetch(MG_A, in_b["sid"], ALPHA_SENDER), 404, 20404)


async def test_deleted_alpha_sender_is_gone_and_comes_back_new(api: Api, world: World) -> None:
    """DELETE answers 204 and the AI SID is gone; adding the text again makes a new SID."""
    _, created = await api.create(MG_A, "Brand", ALPHA_SENDER)
    assert (await api.delete(MG_A, created["sid"], ALPHA_SENDER))[0] == 204
    assert created["sid"] not in world.senders
    expect_error(await api.fetch(MG_A, created["sid"], ALPHA_SENDER), 404, 20404)
    expect_error(await api.delete(MG_A, created["sid"], ALPHA_SENDER), 404, 20404)
    status, again = await api.create(MG_A, "Brand", ALPHA_SENDER)
    assert status == 201
    assert again["sid"] != created["sid"]


@pytest.mark.parametrize("text", ["A", "Brand 1+-_&", "x" * 11, "1a", "a&b"], ids=lambda t: repr(t))
async def test_valid_alpha_texts_are_accepted(api: Api, text: str) -> None:
    """1–11 of A–Z a–z 0–9 space + - _ & with at least one letter is an alpha sender ID."""
    status, body = await api.create(MG_A, text, ALPHA_SENDER)
    assert (status, body["alpha_sender"]) == (201, text)


@pytest.mark.parametrize(
    "text",
    ["12345", "x" * 12, "Brand!", "Bränd", "a.b", " ", "+-_&"],
    ids=["digits-only", "12-chars", "bang", "non-ascii", "dot", "space-only", "no-letter"],
)
async def test_invalid_alpha_text_is_400_21709(api: Api, world: World, text: str) -> None:
    """Text that is no alpha sender ID answers 400/21709 and creates nothing."""
    expect_error(await api.create(MG_A, text, ALPHA_SENDER), 400, 21709)
    assert world.pool(MG_A, ALPHA_SENDER) == []


async def test_missing_alpha_sender_is_400_20001(api: Api) -> None:
    """A create without AlphaSender answers 400/20001."""
    status, body, _ = await api.call("POST", api.collection(MG_A, ALPHA_SENDER), data={})
    expect_error((status, body), 400, 20001)


async def test_alpha_senders_list_in_sid_order_across_pages(api: Api) -> None:
    """The AlphaSenders list pages by SID with next_page_url, like every list."""
    created = [(await api.create(MG_A, f"Brand{n}", ALPHA_SENDER))[1]["sid"] for n in range(5)]
    url: str | None = f"{api.collection(MG_A, ALPHA_SENDER)}?PageSize=2"
    listed = []
    while url:
        _, page, _ = await api.call("GET", url)
        listed += [item["sid"] for item in page["alpha_senders"]]
        url = page["meta"]["next_page_url"]
    assert listed == sorted(created)


async def test_stats_count_requests_per_route(api: Api) -> None:
    """by_route counts each request under its method and the spec's path template."""
    await api.create(MG_A, pn(1), PHONE_NUMBER)
    await api.fetch(MG_A, pn(1), PHONE_NUMBER)
    await api.create(MG_A, "Brand", ALPHA_SENDER)
    await api.account_page(PHONE_NUMBER)
    await api.account_page(PHONE_NUMBER, PhoneNumber="+1")
    await api.call("GET", f"{api.base_url}/v1/Nope")
    stats = await api.stats()
    assert stats["by_route"] == {
        "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json": 2,
        "GET /v1/Services/{ServiceSid}/PhoneNumbers/{Sid}": 1,
        "POST /v1/Services/{ServiceSid}/AlphaSenders": 1,
        "POST /v1/Services/{ServiceSid}/PhoneNumbers": 1,
        "other": 1,
    }
    assert sum(stats["by_route"].values()) == stats["requests"]
