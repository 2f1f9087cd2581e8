"""Shared pieces of the sandbox tests: named SIDs, a seeded world, a small HTTP client."""

from __future__ import annotations

from typing import Any

import aiohttp
from support import mg, sc

from bulkops.sandbox import Sandbox, World

MG_A, MG_B = mg(0xA), mg(0xB)
MG_UNKNOWN = mg(0xC)  # well-formed, never seeded
SC_UNKNOWN = sc(0xFFFF)  # well-formed, numbered past any seeded short code


class Api:
    """A thin aiohttp client for the sandbox returning ``(status, json body, response)``."""

    def __init__(self, session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
        self.session = session
        self.sandbox = sandbox
        self.base_url = sandbox.base_url
        #: The most recent response (its body already read), for header checks.
        self.last_response: aiohttp.ClientResponse | None = None
        self.auth = {
            "Authorization": aiohttp.encode_basic_auth(sandbox.account_sid, sandbox.auth_token)
        }

    def collection(self, service_sid: str) -> str:
        return f"{self.base_url}/v1/Services/{service_sid}/ShortCodes"

    async def call(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        """Send one request with the account's credentials (unless ``headers`` given)."""
        async with self.session.request(
            method, url, headers=self.auth if headers is None else headers, **kwargs
        ) as response:
            raw = await response.read()
            body = await response.json() if raw else None
            self.last_response = response
            return response.status, body, response

    async def create(self, service_sid: str, sid: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = await self.call(
            "POST", self.collection(service_sid), data={"ShortCodeSid": sid}, **kwargs
        )
        return status, body

    async def fetch(self, service_sid: str, sid: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = await self.call("GET", f"{self.collection(service_sid)}/{sid}", **kwargs)
        return status, body

    async def delete(self, service_sid: str, sid: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = await self.call(
            "DELETE", f"{self.collection(service_sid)}/{sid}", **kwargs
        )
        return status, body

    async def page(self, service_sid: str, **params: Any) -> tuple[int, Any]:
        status, body, _ = await self.call("GET", self.collection(service_sid), params=params)
        return status, body

    async def stats(self) -> dict[str, Any]:
        _, body, _ = await self.call("GET", f"{self.base_url}/sandbox/stats", headers={})
        return body


def seeded_world(*, short_codes: int = 10) -> World:
    """Services A and B, and short codes 1..n attached to nothing."""
    world = World()
    world.seed(
        service_sids=[MG_A, MG_B], short_code_sids=[sc(i) for i in range(1, short_codes + 1)]
    )
    return world
