"""Shared pieces of the sandbox tests: named SIDs, a seeded world, a small HTTP client."""

from __future__ import annotations

from typing import Any

import aiohttp
from support import mg, pn, sc

from bulkops.model import SenderKind
from bulkops.sandbox import Sandbox, World

MG_A, MG_B = mg(0xA), mg(0xB)
MG_UNKNOWN = mg(0xC)  # well-formed, never seeded
SC_UNKNOWN = sc(0xFFFF)  # well-formed, numbered past any seeded short code
PN_UNKNOWN = pn(0xFFFF)  # well-formed, numbered past any seeded phone number

SHORT_CODE = SenderKind.SHORT_CODE
PHONE_NUMBER = SenderKind.PHONE_NUMBER
ALPHA_SENDER = SenderKind.ALPHA_SENDER


def sid_of(kind: SenderKind, n: int) -> str:
    """The ``n``-th SID of a kind the account owns (short code or phone number)."""
    return f"{kind.spec.sid_prefix}{n:032x}"


class Api:
    """A thin aiohttp client for the sandbox returning ``(status, json body, response)``.

    The sender calls take the kind (short codes unless told); ``value`` is what the
    create call's form field takes: a SID, or an alpha sender's text.
    """

    def __init__(self, session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
        self.session = session
        self.sandbox = sandbox
        self.base_url = sandbox.base_url
        #: The most recent response (its body already read), for header checks.
        self.last_response: aiohttp.ClientResponse | None = None
        self.auth = {
            "Authorization": aiohttp.encode_basic_auth(sandbox.account_sid, sandbox.auth_token)
        }

    def collection(self, service_sid: str, kind: SenderKind = SHORT_CODE) -> str:
        return f"{self.base_url}/v1/Services/{service_sid}/{kind.collection}"

    def account_listing(self, kind: SenderKind, account_sid: str | None = None) -> str:
        """The URL of the account's 2010-04-01 listing of ``kind``."""
        listing = kind.spec.account_listing
        assert listing is not None
        return self.base_url + listing.path_for(account_sid or self.sandbox.account_sid)

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

    async def create(
        self, service_sid: str, value: str, kind: SenderKind = SHORT_CODE, **kwargs: Any
    ) -> tuple[int, Any]:
        status, body, _ = await self.call(
            "POST",
            self.collection(service_sid, kind),
            data={kind.create_param: value},
            **kwargs,
        )
        return status, body

    async def fetch(
        self, service_sid: str, sid: str, kind: SenderKind = SHORT_CODE, **kwargs: Any
    ) -> tuple[int, Any]:
        url = f"{self.collection(service_sid, kind)}/{sid}"
        status, body, _ = await self.call("GET", url, **kwargs)
        return status, body

    async def delete(
        self, service_sid: str, sid: str, kind: SenderKind = SHORT_CODE, **kwargs: Any
    ) -> tuple[int, Any]:
        url = f"{self.collection(service_sid, kind)}/{sid}"
        status, body, _ = await self.call("DELETE", url, **kwargs)
        return status, body

    async def page(
        self, service_sid: str, kind: SenderKind = SHORT_CODE, **params: Any
    ) -> tuple[int, Any]:
        status, body, _ = await self.call("GET", self.collection(service_sid, kind), params=params)
        return status, body

    async def account_page(self, kind: SenderKind, **params: Any) -> tuple[int, Any]:
        """One page of the account's 2010-04-01 listing of ``kind``."""
        status, body, _ = await self.call("GET", self.account_listing(kind), params=params)
        return status, body

    async def stats(self) -> dict[str, Any]:
        _, body, _ = await self.call("GET", f"{self.base_url}/sandbox/stats", headers={})
        return body


def seeded_world(*, short_codes: int = 10, phone_numbers: int = 0) -> World:
    """Services A and B, short codes 1..n and phone numbers 1..m, attached to nothing."""
    world = World()
    world.seed(
        service_sids=[MG_A, MG_B],
        short_code_sids=[sc(i) for i in range(1, short_codes + 1)],
        phone_number_sids=[pn(i) for i in range(1, phone_numbers + 1)],
    )
    return world
