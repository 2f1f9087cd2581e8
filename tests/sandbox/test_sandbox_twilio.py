"""Twilio's own Python helper library, pointed at the sandbox, works as against Twilio.

The sandbox runs in a background thread (the library is synchronous). The library's
HTTP client is wrapped so that any request to a non-loopback host fails the test
before it is sent, and the sandbox's counters confirm every request reached it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sandbox_helpers import MG_A, MG_B, MG_UNKNOWN, seeded_world
from support import sc
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bulkops.sandbox import SandboxThread


class LoopbackOnlyHttpClient(TwilioHttpClient):
    """The library's requests-based client, refusing any host but 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__(pool_connections=True)
        assert self.session is not None
        self.session.trust_env = False  # no proxies from the environment
        self.urls: list[str] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        assert urlsplit(url).hostname == "127.0.0.1", f"refusing to contact {url}"
        self.urls.append(url)
        return super().request(method, url, *args, **kwargs)

    def close(self) -> None:
        assert self.session is not None
        self.session.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    """A seeded sandbox serving from its own thread."""
    with SandboxThread(world=seeded_world()) as running:
        yield running


@pytest.fixture
def http() -> Iterator[LoopbackOnlyHttpClient]:
    """The loopback-only HTTP client, closed afterwards."""
    client = LoopbackOnlyHttpClient()
    yield client
    client.close()


def twilio_client(
    sandbox: SandboxThread, http: LoopbackOnlyHttpClient, username: str, password: str
) -> Client:
    """A helper-library client whose Messaging domain is the sandbox."""
    client = Client(
        username, password, account_sid=sandbox.account_sid, http_client=http, environment={}
    )
    client.messaging.base_url = sandbox.base_url
    return client


@pytest.fixture
def client(sandbox: SandboxThread, http: LoopbackOnlyHttpClient) -> Client:
    """A client with the sandbox account's SID and token."""
    return twilio_client(sandbox, http, sandbox.account_sid, sandbox.auth_token)


def test_create_fetch_delete(client: Client, sandbox: SandboxThread, http) -> None:
    """create, fetch and delete through the library round-trip the resource."""
    short_codes = client.messaging.v1.services(MG_A).short_codes
    created = short_codes.create(short_code_sid=sc(1))
    assert (created.sid, created.service_sid) == (sc(1), MG_A)
    assert created.account_sid == sandbox.account_sid
    assert isinstance(created.date_created, dt.datetime)
    assert created.short_code == sandbox.world.senders[sc(1)].number
    fetched = short_codes(sc(1)).fetch()
    assert (fetched.sid, fetched.country_code, fetched.capabilities) == (
        sc(1),
        "US",
        created.capabilities,
    )
    assert short_codes(sc(1)).delete() is True
    assert sandbox.world.senders[sc(1)].service_sid is None
    assert sandbox.stats.snapshot()["requests"] == len(http.urls) == 3


def test_list_and_stream_follow_pages(client: Client, sandbox: SandboxThread, http) -> None:
    """list(page_size=2) and stream(...) read every page by next_page_url."""
    short_codes = client.messaging.v1.services(MG_A).short_codes
    for n in (5, 3, 1, 4, 2):
        short_codes.create(short_code_sid=sc(n))
    sent_before = len(http.urls)
    listed = short_codes.list(page_size=2)
    assert [item.sid for item in listed] == [sc(n) for n in range(1, 6)]
    assert len(http.urls) - sent_before == 3
    assert all("PageToken=PA" in url for url in http.urls[-2:])
    streamed = [item.sid for item in short_codes.stream(page_size=2, limit=3)]
    assert streamed == [sc(1), sc(2), sc(3)]
    assert sandbox.stats.snapshot()["requests"] == len(http.urls)


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (
            lambda c: c.messaging.v1.services(MG_B).short_codes.create(short_code_sid=sc(1)),
            409,
            21712,
        ),
        (
            lambda c: c.messaging.v1.services(MG_A).short_codes.create(short_code_sid=sc(1)),
            409,
            21710,
        ),
        (lambda c: c.messaging.v1.services(MG_A).short_codes(sc(2)).fetch(), 404, 20404),
        (lambda c: c.messaging.v1.services(MG_A).short_codes(sc(2)).delete(), 404, 20404),
        (
            lambda c: c.messaging.v1.services(MG_A).short_codes.create(short_code_sid="SC1"),
            400,
            21421,
        ),
    ],
    ids=["elsewhere", "already", "fetch-absent", "delete-absent", "malformed"],
)
def test_errors_surface_as_twilio_rest_exception(client: Client, call, status, code) -> None:
    """Refusals reach the caller as TwilioRestException with Twilio's status and code."""
    client.messaging.v1.services(MG_A).short_codes.create(short_code_sid=sc(1))
    with pytest.raises(TwilioRestException) as caught:
        call(client)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.msg


def test_list_errors_surface_as_twilio_exception(client: Client) -> None:
    """The library reports a failed list page as TwilioException carrying the response."""
    with pytest.raises(TwilioException) as caught:
        client.messaging.v1.services(MG_UNKNOWN).short_codes.list()
    _, response = caught.value.args
    assert response.status_code == 404
    assert json.loads(response.text)["code"] == 20404


def test_bad_token_is_401_and_api_key_works(sandbox: SandboxThread, http) -> None:
    """A wrong token raises 401/20003; an API key with its secret is accepted."""
    wrong = twilio_client(sandbox, http, sandbox.account_sid, "wrong-token")
    with pytest.raises(TwilioRestException) as caught:
        wrong.messaging.v1.services(MG_A).short_codes.create(short_code_sid=sc(4))
    assert (caught.value.status, caught.value.code) == (401, 20003)
    key = "SK" + "3" * 32
    sandbox.world.add_api_key(key, "key-secret")
    keyed = twilio_client(sandbox, http, key, "key-secret")
    assert keyed.messaging.v1.services(MG_A).short_codes.create(short_code_sid=sc(4)).sid == sc(4)
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in http.urls)
