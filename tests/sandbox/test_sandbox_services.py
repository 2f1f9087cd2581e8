"""``GET /v1/Services``: the account's Messaging Services, paged, as Twilio's spec says.

Each page validates against the spec's ListServiceResponse (items are
``messaging.v1.service``); following ``next_page_url`` reads every service
once, in SID order; bulkops' lister reads them the same way.
"""

from __future__ import annotations

from contextlib import aclosing

import pytest
from contract_support import MESSAGING, response_validator, schema
from support import mg

from bulkops.commands.connection import Connection
from bulkops.sandbox import Sandbox, World

SERVICES = [mg(n) for n in (5, 1, 4, 2, 3)]


def world_of_services() -> World:
    world = World()
    for sid in SERVICES:
        world.add_service(sid)
    return world


@pytest.mark.asyncio
async def test_every_page_matches_the_spec_and_lists_each_service_once(open_api) -> None:
    """PageSize=2 over five services: three pages, each valid, every SID once, sorted."""
    listed_v = response_validator(MESSAGING, "/v1/Services", "get", "200")
    resource = schema(MESSAGING, "components", "schemas", "messaging.v1.service")
    meta = schema(MESSAGING, "paths", "/v1/Services", "get", "responses", "200", "content")
    meta_keys = set(meta["application/json"]["schema"]["properties"]["meta"]["properties"])
    seen: list[str] = []
    async with open_api(world_=world_of_services()) as api:
        url: str | None = f"{api.sandbox.base_url}/v1/Services?PageSize=2"
        pages = 0
        while url:
            status, page, _ = await api.call("GET", url)
            assert status == 200
            listed_v.validate(page)
            assert set(page["meta"]) == meta_keys
            assert page["meta"]["key"] == "services"
            for item in page["services"]:
                assert set(item) == set(resource["properties"])
                assert item["account_sid"] == api.sandbox.account_sid
            seen += [item["sid"] for item in page["services"]]
            url = page["meta"]["next_page_url"]
            pages += 1
    assert pages == 3
    assert seen == sorted(SERVICES)


@pytest.mark.asyncio
async def test_the_lister_reads_every_page_of_services() -> None:
    """ServiceLister.services(): each page's SIDs, one call a page (PageSize 2 → 3 calls)."""
    async with Sandbox(world=world_of_services()) as sb:
        connection = Connection(base_url=sb.base_url, credentials=sb.credentials(), page_size=2)
        async with (
            connection.listers() as listers,
            aclosing(listers.services.services()) as pages,
        ):
            found = [page async for page in pages]
        assert found == [sorted(SERVICES)[:2], sorted(SERVICES)[2:4], sorted(SERVICES)[4:]]
        assert listers.services.pages == 3
        assert sb.stats.by_route["GET /v1/Services"] == 3
