"""Listing a service's short codes page by page, following ``next_page_url`` over sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from e2e_support import SHORT_CODE
from support import mg, sc

from bulkops.config import Credentials
from bulkops.model import Op
from bulkops.sandbox import Sandbox, World
from bulkops.twilio import Resource, TwilioClient, build_request

MG_A, MG_B = mg(0xA), mg(0xB)
ATTACHED = 23


def paging_world() -> World:
    """A holds ATTACHED short codes (in shuffled attach order); B holds two others."""
    world = World()
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(i) for i in range(1, 40)])
    for i in sorted(range(1, ATTACHED + 1), key=lambda i: i * 7 % ATTACHED):
        world.attach(MG_A, SHORT_CODE, sc(i))
    for i in (30, 31):
        world.attach(MG_B, SHORT_CODE, sc(i))
    return world


@asynccontextmanager
async def client_of(sb: Sandbox) -> AsyncIterator[TwilioClient]:
    credentials = Credentials(sb.account_sid, sb.auth_token, sb.account_sid)
    async with TwilioClient.open(
        base_url=sb.base_url, credentials=credentials, pool_size=2, timeout_s=5.0
    ) as client:
        yield client


async def list_all(client: TwilioClient, service: str, page_size: int) -> list[list[Resource]]:
    """Every page of the service's list, following ``next_page_url`` to the end."""
    pages: list[list[Resource]] = []
    url: str | None = client.first_page_url(service, page_size=page_size)
    while url is not None:
        items, url = await client.list_page(url)
        pages.append(items)
        assert len(pages) <= 100, "next_page_url never ran out"
    return pages


def sids(pages: list[list[Resource]]) -> Iterator[str]:
    return (item["sid"] for page in pages for item in page)


@pytest.mark.asyncio
@pytest.mark.parametrize(("page_size", "pages"), [(1, 23), (5, 5), (22, 2), (23, 1), (1000, 1)])
async def test_paging_returns_every_attached_short_code_once(page_size: int, pages: int) -> None:
    """Following next_page_url yields each short code of the service exactly once, in SID order."""
    async with Sandbox(world=paging_world()) as sb, client_of(sb) as client:
        listed = await list_all(client, MG_A, page_size)

    got = list(sids(listed))
    assert got == [sc(i) for i in range(1, ATTACHED + 1)]
    assert len(listed) == pages
    assert all(len(page) <= page_size for page in listed)
    assert {item["service_sid"] for page in listed for item in page} == {MG_A}


@pytest.mark.asyncio
async def test_paging_an_empty_service_is_one_empty_page() -> None:
    """A service with no short codes lists as one empty page with no next page."""
    world = World()
    world.seed(service_sids=[MG_A])
    async with Sandbox(world=world) as sb, client_of(sb) as client:
        listed = await list_all(client, MG_A, 5)

    assert listed == [[]]


@pytest.mark.asyncio
async def test_paging_survives_detaches_between_pages() -> None:
    """Short codes detached after their page was read do not make later ones be skipped."""
    async with Sandbox(world=paging_world()) as sb, client_of(sb) as client:
        seen: list[str] = []
        url: str | None = client.first_page_url(MG_A, page_size=5)
        while url is not None:
            items, url = await client.list_page(url)
            seen += [item["sid"] for item in items]
            for item in items:  # detach what this page showed, before the next page
                await client.send(build_request(Op.DETACH, SHORT_CODE, MG_A, item["sid"]))
        left = list(sb.world.pool(MG_A, SHORT_CODE))

    assert seen == [sc(i) for i in range(1, ATTACHED + 1)]
    assert left == []
