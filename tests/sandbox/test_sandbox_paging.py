"""List paging: SID order, next/previous URLs, tokens and bounds."""

from __future__ import annotations

import pytest
from sandbox_helpers import MG_A, MG_B, Api
from support import sc

from bulkops.model import SenderKind
from bulkops.sandbox import World

pytestmark = pytest.mark.asyncio


def attach_all(world: World, service_sid: str, numbers: range) -> list[str]:
    for n in numbers:
        world.attach(service_sid, SenderKind.SHORT_CODE, sc(n))
    return [sc(n) for n in numbers]


async def follow(api: Api, url: str) -> list[dict]:
    """Every page from ``url`` on, by next_page_url."""
    pages = []
    while url:
        status, body, _ = await api.call("GET", url)
        assert status == 200, body
        pages.append(body)
        url = body["meta"]["next_page_url"]
    return pages


async def test_pages_follow_next_page_url_in_sid_order(api: Api, world: World) -> None:
    """Following next_page_url yields every attached SID once, sorted, then a null next URL."""
    expected = sorted(attach_all(world, MG_A, range(10, 0, -1)))
    pages = await follow(api, f"{api.collection(MG_A)}?PageSize=3")
    assert [len(p["short_codes"]) for p in pages] == [3, 3, 3, 1]
    assert [item["sid"] for p in pages for item in p["short_codes"]] == expected
    assert [p["meta"]["page"] for p in pages] == [0, 1, 2, 3]
    assert pages[-1]["meta"]["next_page_url"] is None
    assert pages[0]["meta"]["previous_page_url"] is None
    assert all(p["meta"]["key"] == "short_codes" and p["meta"]["page_size"] == 3 for p in pages)


async def test_meta_urls_point_at_the_sandbox(api: Api, world: World) -> None:
    """first_page_url, url and next_page_url use the sandbox's own base URL."""
    attach_all(world, MG_A, range(1, 4))
    _, body = await api.page(MG_A, PageSize=2)
    meta = body["meta"]
    assert meta["first_page_url"] == f"{api.collection(MG_A)}?PageSize=2&Page=0"
    assert meta["url"] == f"{api.collection(MG_A)}?PageSize=2&Page=0"
    assert meta["next_page_url"] == f"{api.collection(MG_A)}?PageSize=2&Page=1&PageToken=PA{sc(2)}"


async def test_deletes_between_pages_skip_nothing(api: Api, world: World) -> None:
    """Detaching already-listed senders between pages does not shift the next page."""
    attach_all(world, MG_A, range(1, 7))
    _, first = await api.page(MG_A, PageSize=3)
    for item in first["short_codes"]:
        assert (await api.delete(MG_A, item["sid"]))[0] == 204
    rest = await follow(api, first["meta"]["next_page_url"])
    assert [i["sid"] for p in rest for i in p["short_codes"]] == [sc(4), sc(5), sc(6)]


async def test_previous_page_url_goes_back(api: Api, world: World) -> None:
    """previous_page_url of the second page returns the first page."""
    attach_all(world, MG_A, range(1, 6))
    _, first = await api.page(MG_A, PageSize=2)
    _, second, _ = await api.call("GET", first["meta"]["next_page_url"])
    _, back, _ = await api.call("GET", second["meta"]["previous_page_url"])
    assert back["short_codes"] == first["short_codes"]
    assert back["meta"]["page"] == 0


async def test_default_page_size_is_50(api: Api, world: World) -> None:
    """Without PageSize a page holds 50 items."""
    world.seed(short_code_sids=[sc(n) for n in range(1, 61)])
    attach_all(world, MG_A, range(1, 61))
    _, body = await api.page(MG_A)
    assert len(body["short_codes"]) == 50
    assert body["meta"]["page_size"] == 50
    assert body["meta"]["next_page_url"] is not None


async def test_page_without_token_is_an_offset(api: Api, world: World) -> None:
    """Page=N without PageToken starts at N × PageSize."""
    attach_all(world, MG_A, range(1, 6))
    _, body = await api.page(MG_A, PageSize=2, Page=1)
    assert [i["sid"] for i in body["short_codes"]] == [sc(3), sc(4)]


async def test_list_shows_only_this_service(api: Api, world: World) -> None:
    """A service's list holds its own senders only; an empty one has no next page."""
    attach_all(world, MG_B, range(1, 3))
    _, body = await api.page(MG_A)
    assert body["short_codes"] == []
    assert body["meta"]["next_page_url"] is None


@pytest.mark.parametrize("size", ["1", "1000"])
async def test_page_size_bounds_are_accepted(api: Api, size: str) -> None:
    """PageSize 1 and 1000 are valid."""
    assert (await api.page(MG_A, PageSize=size))[0] == 200


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"PageSize": "0"}, 20007),
        ({"PageSize": "1001"}, 20007),
        ({"PageSize": "-5"}, 20007),
        ({"PageSize": "many"}, 20007),
        ({"Page": "-1"}, 20007),
        ({"PageToken": "garbage"}, 21481),
        ({"PageToken": "PX" + sc(1)}, 21481),
        ({"PageToken": "PA" + "SC123"}, 21481),
    ],
)
async def test_bad_paging_parameters_are_400(api: Api, params: dict, code: int) -> None:
    """Out-of-range PageSize or Page answer 400/20007; a bad PageToken 400/21481."""
    status, body = await api.page(MG_A, **params)
    assert (status, body["code"]) == (400, code)
