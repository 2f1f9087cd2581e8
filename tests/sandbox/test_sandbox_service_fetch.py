"""The sandbox's issue-11 routes and faults with issue 10's kinds.

``GET /v1/Services/{Sid}`` is checked against Twilio's spec (its ``links`` name
every kind's collection), and held writes (``hold_writes_s``) land for every
kind's create and delete, even after the client gave up.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from contract_support import MESSAGING, response_validator
from sandbox_helpers import (
    ALPHA_SENDER,
    MG_A,
    MG_UNKNOWN,
    PHONE_NUMBER,
    SHORT_CODE,
    pn,
    seeded_world,
)
from support import sc

from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile


@pytest.mark.asyncio
async def test_the_service_reads_as_the_spec_says_and_links_every_kind(open_api) -> None:
    """200 with ``messaging.v1.service``; an unknown service is 404/20404."""
    async with open_api() as api:
        status, body, _ = await api.call("GET", f"{api.base_url}/v1/Services/{MG_A}")
        missing, error, _ = await api.call("GET", f"{api.base_url}/v1/Services/{MG_UNKNOWN}")
        stats = await api.stats()
    assert status == 200
    response_validator(MESSAGING, "/v1/Services/{Sid}", "get", "200").validate(body)
    assert body["sid"] == MG_A
    for kind in SenderKind:
        assert body["links"][kind.list_key] == f"{body['url']}/{kind.collection}"
    assert (missing, error["code"]) == (404, 20404)
    assert stats["by_route"]["GET /v1/Services/{Sid}"] == 2


@pytest.mark.asyncio
async def test_held_writes_of_every_kind_land_after_the_client_gave_up(open_api) -> None:
    """A create of each kind and a delete, each held 2 s, the client gone after 0.5 s:
    all applied once the hold is over. A read is not held.

    The four writes go out together, and the client waits 0.5 s for each: long
    enough to be sure the sandbox has them (0.05 s was not, under a full test run
    on 2 cores: a write the client gave up on before sending it never landed),
    and still well inside the hold, which the read and the check that the
    delete is still held finish within.
    """
    world = seeded_world(short_codes=2, phone_numbers=2)
    world.attach(MG_A, PHONE_NUMBER, pn(2))
    gave_up = aiohttp.ClientTimeout(total=0.5)
    async with open_api(world_=world, load=LoadProfile(hold_writes_s=2.0)) as api:
        outcomes = await asyncio.gather(
            api.create(MG_A, sc(1), SHORT_CODE, timeout=gave_up),
            api.create(MG_A, pn(1), PHONE_NUMBER, timeout=gave_up),
            api.create(MG_A, "Acme", ALPHA_SENDER, timeout=gave_up),
            api.delete(MG_A, pn(2), PHONE_NUMBER, timeout=gave_up),
            return_exceptions=True,
        )
        assert [type(o) for o in outcomes] == [TimeoutError] * 4
        status, _, _ = await api.call(
            "GET", f"{api.base_url}/v1/Services/{MG_A}", timeout=gave_up
        )  # a read: answered at once, not held (a held one would time out)
        assert world.attached(MG_A, PHONE_NUMBER, pn(2)) is not None  # the delete: still held
        await api.sandbox.held_writes_applied()
    assert status == 200
    assert world.attached(MG_A, SHORT_CODE, sc(1)) is not None
    assert world.attached(MG_A, PHONE_NUMBER, pn(1)) is not None
    assert world.attached(MG_A, PHONE_NUMBER, pn(2)) is None
    assert [s.number for s in world.senders.values() if s.kind is ALPHA_SENDER] == ["Acme"]
