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
from sandbox_helpers import ALPHA_SENDER, MG_A, MG_B, MG_UNKNOWN, PHONE_NUMBER, pn, seeded_world
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
    """A seeded sandbox serving from its own thread: short codes and phone numbers."""
    world = seeded_world(phone_numbers=3)
    world.seed_senders(PHONE_NUMBER, ["+14155550100"])
    with SandboxThread(world=world) as running:
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
    """A helper-library client whose Messaging and Api domains are the sandbox."""
    client = Client(
        username, password, account_sid=sandbox.account_sid, http_client=http, environment={}
    )
    client.messaging.base_url = sandbox.base_url
    client.api.base_url = sandbox.base_url
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


def test_phone_numbers_create_list_delete(client: Client, sandbox: SandboxThread) -> None:
    """PhoneNumbers through the library: create by SID, list, fetch, delete."""
    phone_numbers = client.messaging.v1.services(MG_A).phone_numbers
    created = phone_numbers.create(phone_number_sid=pn(2))
    assert (created.sid, created.service_sid) == (pn(2), MG_A)
    assert created.phone_number == sandbox.world.senders[pn(2)].number
    assert created.country_code == "US"
    phone_numbers.create(phone_number_sid=pn(1))
    assert [item.sid for item in phone_numbers.list(page_size=1)] == [pn(1), pn(2)]
    assert phone_numbers(pn(2)).fetch().phone_number == created.phone_number
    assert phone_numbers(pn(2)).delete() is True
    assert [item.sid for item in phone_numbers.list()] == [pn(1)]


def test_alpha_senders_create_list_delete(client: Client, sandbox: SandboxThread) -> None:
    """AlphaSenders through the library: create by text, list, fetch, delete; 21710 twice."""
    alpha_senders = client.messaging.v1.services(MG_A).alpha_senders
    created = alpha_senders.create(alpha_sender="My Brand")
    assert created.sid.startswith("AI")
    assert (created.alpha_sender, created.service_sid) == ("My Brand", MG_A)
    with pytest.raises(TwilioRestException) as caught:
        alpha_senders.create(alpha_sender="My Brand")
    assert (caught.value.status, caught.value.code) == (409, 21710)
    assert [item.alpha_sender for item in alpha_senders.list()] == ["My Brand"]
    assert alpha_senders(created.sid).fetch().capabilities == ["SMS"]
    assert alpha_senders(created.sid).delete() is True
    assert alpha_senders.list() == []
    assert not any(s.kind is ALPHA_SENDER for s in sandbox.world.senders.values())


def test_incoming_phone_numbers_list_and_filter(
    client: Client, sandbox: SandboxThread, http
) -> None:
    """IncomingPhoneNumbers through the library: every number, paged by next_page_uri, and
    the PhoneNumber filter."""
    numbers = client.api.v2010.accounts(sandbox.account_sid).incoming_phone_numbers
    sent_before = len(http.urls)
    listed = numbers.list(page_size=2)
    assert len(http.urls) - sent_before == 2
    assert sorted(item.sid for item in listed) == sorted(
        s.sid for s in sandbox.world.senders.values() if s.kind is PHONE_NUMBER
    )
    [found] = numbers.list(phone_number="+14155550100")
    assert found.phone_number == "+14155550100"
    assert found.friendly_name == "(415) 555-0100"
    assert isinstance(found.date_created, dt.datetime)
    assert found.capabilities["sms"] is True
    assert numbers.list(phone_number="+19995550100") == []


def test_account_short_codes_list_and_filter(client: Client, sandbox: SandboxThread) -> None:
    """SMS/ShortCodes through the library: the ShortCode filter finds one short code by number."""
    short_codes = client.api.v2010.accounts(sandbox.account_sid).short_codes
    number = sandbox.world.senders[sc(3)].number
    assert [item.sid for item in short_codes.list(short_code=number)] == [sc(3)]
    assert len(short_codes.list(page_size=3)) == 10
