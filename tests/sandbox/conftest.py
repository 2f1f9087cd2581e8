"""Fixtures for the sandbox tests: a seeded world and a client over real loopback sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sandbox_helpers import Api, seeded_world

from bulkops.sandbox import LoadProfile, Sandbox, World


@pytest.fixture
def world() -> World:
    """A fresh seeded world."""
    return seeded_world()


OpenApi = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture
def open_api(world: World) -> OpenApi:
    """``async with open_api(load=LoadProfile(...)) as api:`` runs a sandbox on port 0."""

    @asynccontextmanager
    async def opener(
        *, load: LoadProfile | None = None, world_: World | None = None, **session_kwargs: Any
    ) -> AsyncIterator[Api]:
        async with (
            Sandbox(world=world_ or world, load=load) as sandbox,
            aiohttp.ClientSession(**session_kwargs) as session,
        ):
            yield Api(session, sandbox)

    return opener


@pytest_asyncio.fixture
async def api(open_api: OpenApi) -> AsyncIterator[Api]:
    """A client of a default (fast, faultless) sandbox over the seeded world."""
    async with open_api() as client:
        yield client
