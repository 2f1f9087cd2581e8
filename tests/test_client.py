"""The HTTP client: what send() puts on the wire and what it makes of answers.

aioresponses stands in front of the session (a real loopback server where headers
matter); the pure mapping of answers is tested in test_answers.py.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aioresponses import aioresponses
from support import mg, sc, silent_listener
from yarl import URL

from bulkops.config import Credentials
from bulkops.errors import (
    ApiError,
    AuthenticationError,
    NetworkCause,
    PermanentError,
    RunAborted,
    ServerError,
    ThrottledError,
    TransportError,
)
from bulkops.model import Op, SenderKind
from bulkops.twilio import CONCURRENCY_HEADER, Reply, Request, TwilioClient, build_request
from bulkops.twilio.listing import AccountLister

BASE = "https://messaging.twilio.com"
ACCOUNT = "AC" + "c" * 32
PASSWORD = "sekrit-token-123"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT}:{PASSWORD}".encode()).decode()
NOW = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)
MG, SC = mg(7), sc(9)
COLLECTION = f"{BASE}/v1/Services/{MG}/ShortCodes"
ITEM = f"{COLLECTION}/{SC}"
RESOURCE = {
    "sid": SC,
    "service_sid": MG,
    "account_sid": ACCOUNT,
    "short_code": "12345",
    "country_code": "US",
}


class CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` aiohttp 3.14 requires."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class MockedHTTP(aioresponses):
    """aioresponses whose canned responses build under aiohttp 3.14."""

    def add(self, url: Any, method: str = "GET", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", CompatResponse)
        super().add(url, method, *args, **kwargs)


@asynccontextmanager
async def client_for(base_url: str = BASE) -> AsyncIterator[TwilioClient]:
    """A client on a real session carrying Basic auth, with ``now`` pinned to NOW.

    The header is set directly: aiohttp 3.14 deprecates ``aiohttp.BasicAuth``.
    """
    async with aiohttp.ClientSession(headers={"Authorization": BASIC}) as session:
        yield TwilioClient(session, base_url, now=lambda: NOW)


def only_request(m: aioresponses, method: str, url: str) -> dict[str, Any]:
    """The kwargs of the single request aioresponses saw for ``method url``."""
    (call,) = m.requests[(method, URL(url))]
    return dict(call.kwargs)


# --- successful calls ------------------------------------------------------------------------


def request(op: Op) -> Request:
    """The request for ``op`` on SC in MG."""
    return build_request(op, SenderKind.SHORT_CODE, MG, SC)


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [201, 200])
async def test_send_posts_the_form_url_encoded(status: int) -> None:
    """An attach request goes out as a url-encoded form, unredirected; its body comes back."""
    with MockedHTTP() as m:
        m.post(COLLECTION, status=status, payload=RESOURCE)
        async with client_for() as client:
            reply = await client.send(request(Op.ATTACH))
    assert reply == Reply(status=status, body=RESOURCE)
    sent = only_request(m, "POST", COLLECTION)
    assert sent["data"] == f"ShortCodeSid={SC}".encode()
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent["allow_redirects"] is False


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("op", "method", "status", "answer", "body"),
    [
        (Op.DETACH, "DELETE", 204, {"body": b""}, None),
        (Op.FETCH, "GET", 200, {"payload": RESOURCE}, RESOURCE),
    ],
    ids=["detach-204", "fetch-200"],
)
async def test_send_without_a_form_sends_no_body(
    op: Op, method: str, status: int, answer: dict[str, Any], body: Any
) -> None:
    """Requests without a form send no body and no Content-Type; an empty 204 reads as None."""
    with MockedHTTP() as m:
        m.add(ITEM, method, status=status, **answer)
        async with client_for() as client:
            reply = await client.send(request(op))
    assert reply == Reply(status=status, body=body)
    sent = only_request(m, method, ITEM)
    assert sent["data"] is None
    assert "Content-Type" not in sent["headers"]


@pytest.mark.asyncio
async def test_base_url_with_trailing_slash_joins_cleanly() -> None:
    """A trailing slash on the base URL does not produce a double slash in the path."""
    with MockedHTTP() as m:
        m.get(ITEM, payload=RESOURCE)
        async with client_for(BASE + "/") as client:
            reply = await client.send(request(Op.FETCH))
    assert reply.body == RESOURCE


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["https://elsewhere.example/v1/Services", "v1/Services", ""])
async def test_send_refuses_a_path_that_could_name_another_host(path: str) -> None:
    """Only a path starting with / is sent: the session's credentials go to its own host alone."""
    with MockedHTTP() as m:
        async with client_for() as client:
            with pytest.raises(ValueError, match="own base URL"):
                await client.send(Request("GET", path + "?PageToken=x"))
    assert m.requests == {}


@pytest.mark.asyncio
async def test_list_page_follows_next_page_url_as_a_path_on_its_own_host() -> None:
    """next_page_url comes back cut to path and query, even when it names another host."""
    first_items = [{"sid": sc(1)}, {"sid": sc(2)}]
    second_items = [{"sid": sc(3)}]
    next_path = f"/v1/Services/{MG}/ShortCodes?PageSize=2&Page=1&PageToken=PTabc"
    with MockedHTTP() as m:
        m.get(
            f"{COLLECTION}?PageSize=2",
            payload={
                "short_codes": first_items,
                "meta": {"next_page_url": "https://elsewhere.example" + next_path},
            },
        )
        m.get(BASE + next_path, payload={"short_codes": second_items, "meta": {}})
        async with client_for() as client:
            first_url = client.first_page_url(MG, page_size=2)
            page1 = await client.list_page(first_url)
            page2 = await client.list_page(next_path)
    assert first_url == f"/v1/Services/{MG}/ShortCodes?PageSize=2"
    assert page1 == (first_items, next_path)
    assert page2 == (second_items, None)


NUMBERS = f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("base_url", "api_base_url"),
    [
        ("https://messaging.twilio.com", "https://api.twilio.com"),
        ("https://messaging.dublin.ie1.twilio.com", "https://api.dublin.ie1.twilio.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
    ids=["twilio", "edge-region", "one-place"],
)
async def test_2010_paths_go_to_the_api_host_paired_with_the_messaging_host(
    base_url: str, api_base_url: str
) -> None:
    """/2010-04-01 paths go to api.…twilio.com beside messaging.…, or to --base-url itself."""
    with MockedHTTP() as m:
        m.get(f"{api_base_url}{NUMBERS}?PageSize=1", payload={"incoming_phone_numbers": []})
        m.get(f"{base_url}/v1/Services/{MG}/ShortCodes/{SC}", payload=RESOURCE)
        async with client_for(base_url) as client:
            listed = await client.list_page(
                f"{NUMBERS}?PageSize=1", SenderKind.PHONE_NUMBER.spec.account_listing
            )
            fetched = await client.send(request(Op.FETCH))
    assert listed == ([], None)
    assert fetched.body == RESOURCE


@pytest.mark.asyncio
async def test_account_lister_yields_number_sid_pairs_and_follows_next_page_uri() -> None:
    """The 2010 listing's pages come back as (number, SID), following next_page_uri."""
    listing = SenderKind.PHONE_NUMBER.spec.account_listing
    assert listing is not None
    second = f"{NUMBERS}?PageSize=2&Page=1&PageToken=PAx"
    with MockedHTTP() as m:
        m.get(
            f"https://api.twilio.com{NUMBERS}?PageSize=2",
            payload={
                "incoming_phone_numbers": [
                    {"phone_number": "+14155550100", "sid": "PN1"},
                    {"phone_number": "+14155550101", "sid": "PN2"},
                ],
                "next_page_uri": second,
            },
        )
        m.get(
            f"https://api.twilio.com{second}",
            payload={"incoming_phone_numbers": [{"phone_number": "+1", "sid": "PN3"}]},
        )
        async with client_for() as client:
            lister = AccountLister(client, ACCOUNT, page_size=2)
            pages = [page async for page in lister.numbers(listing)]
    assert pages == [[("+14155550100", "PN1"), ("+14155550101", "PN2")], [("+1", "PN3")]]
    assert lister.pages == 2


@pytest.mark.asyncio
async def test_account_lister_filters_by_number_and_a_404_aborts_naming_the_account() -> None:
    """A filtered GET sends PhoneNumber=…; an account the host does not know stops the run."""
    listing = SenderKind.PHONE_NUMBER.spec.account_listing
    assert listing is not None
    with MockedHTTP() as m:
        m.get(
            f"https://api.twilio.com{NUMBERS}?PageSize=1000&PhoneNumber=%2B14155550100",
            status=404,
            payload={"code": 20404, "message": "not found"},
        )
        async with client_for() as client:
            lister = AccountLister(client, ACCOUNT)
            with pytest.raises(RunAborted, match=f"account {ACCOUNT}"):
                _ = [page async for page in lister.numbers(listing, "+14155550100")]


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [{}, {"short_codes": None, "meta": None}])
async def test_list_page_tolerates_missing_keys(body: dict[str, Any]) -> None:
    """A page without items or meta is an empty last page."""
    with MockedHTTP() as m:
        m.get(f"{COLLECTION}?PageSize=1000", payload=body)
        async with client_for() as client:
            page = await client.list_page(client.first_page_url(MG))
    assert page == ([], None)


# --- errors ---------------------------------------------------------------------------------

HTTP_DATE_7S = "Mon, 01 Jan 2024 00:00:07 GMT"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "code", "retry_after_s"),
    [
        (
            429,
            {"code": 20429, "message": "Too Many"},
            {"Retry-After": "3"},
            ThrottledError,
            20429,
            3.0,
        ),
        (
            429,
            {"code": 20429, "message": "Too Many"},
            {"Retry-After": HTTP_DATE_7S},
            ThrottledError,
            20429,
            7.0,
        ),
        (503, {"message": "Service Unavailable"}, {"Retry-After": "5"}, ServerError, None, 5.0),
        (401, {"code": 20003, "message": "Authenticate"}, {}, AuthenticationError, 20003, None),
        (409, {"code": 21710, "message": "already in service"}, {}, PermanentError, 21710, None),
    ],
    ids=["429-seconds", "429-http-date-from-the-clients-now", "503-retry-after", "401", "409"],
)
async def test_an_error_answer_raises_its_typed_error(  # noqa: PLR0913 - one per parametrize column
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    kind: type[ApiError],
    code: int | None,
    retry_after_s: float | None,
) -> None:
    """send maps status, body and Retry-After (a date counted from its ``now``) to the error."""
    with MockedHTTP() as m:
        m.post(COLLECTION, status=status, payload=body, headers=headers)
        async with client_for() as client:
            with pytest.raises(ApiError) as caught:
                await client.send(request(Op.ATTACH))
    error = caught.value
    assert type(error) is kind
    assert (error.status, error.code, error.retry_after_s) == (status, code, retry_after_s)
    assert error.message == body["message"]


@pytest.mark.asyncio
async def test_the_concurrency_header_rides_on_replies_and_429s() -> None:
    """``Twilio-Concurrent-Requests`` comes back on the Reply and on the ThrottledError."""
    with MockedHTTP() as m:
        m.post(COLLECTION, status=201, payload=RESOURCE, headers={CONCURRENCY_HEADER: "7"})
        m.post(COLLECTION, status=429, payload={"code": 20429, "message": "Too Many"},
               headers={CONCURRENCY_HEADER: "10", "Retry-After": "5"})  # fmt: skip
        m.post(COLLECTION, status=201, payload=RESOURCE)
        async with client_for() as client:
            reply = await client.send(request(Op.ATTACH))
            with pytest.raises(ThrottledError) as caught:
                await client.send(request(Op.ATTACH))
            without = await client.send(request(Op.ATTACH))
    assert reply.account_in_flight == 7
    assert (caught.value.account_in_flight, caught.value.retry_after_s) == (10, 5.0)
    assert without.account_in_flight is None


@pytest.mark.asyncio
async def test_a_body_not_asked_for_is_not_parsed() -> None:
    """``read_body=False``: the status and count come back, the body does not."""
    with MockedHTTP() as m:
        m.post(COLLECTION, status=201, payload=RESOURCE, headers={CONCURRENCY_HEADER: "2"})
        async with client_for() as client:
            reply = await client.send(request(Op.ATTACH), read_body=False)
    assert reply == Reply(201, None, 2)


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "body"), [(502, b"<html>Bad Gateway</html>"), (200, b"<html>")])
async def test_a_body_that_is_not_json_names_method_and_path_not_the_query(
    status: int, body: bytes
) -> None:
    """Without a JSON message, the error names METHOD /path; a list page's query is left out."""
    url = f"{COLLECTION}?PageSize=5&PageToken=PTsecret"
    with MockedHTTP() as m:
        m.get(url, status=status, body=body)
        async with client_for() as client:
            with pytest.raises(ApiError) as caught:
                await client.list_page(url.removeprefix(BASE))
    assert caught.value.status == status
    assert caught.value.message.startswith(f"GET /v1/Services/{MG}/ShortCodes: HTTP {status}")
    assert "PTsecret" not in str(caught.value)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("exception", "words"),
    [
        (aiohttp.ClientConnectionError("Cannot connect"), "ClientConnectionError"),
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError"),
        (TimeoutError(), "timed out"),
        (aiohttp.ServerTimeoutError("read timeout"), "timed out"),
    ],
    ids=["connection", "disconnected", "timeout", "server-timeout"],
)
async def test_no_answer_is_a_transport_error(exception: Exception, words: str) -> None:
    """A dropped connection or a timeout becomes TransportError naming method and path."""
    with MockedHTTP() as m:
        m.get(ITEM, exception=exception)
        async with client_for() as client:
            with pytest.raises(TransportError) as caught:
                await client.send(request(Op.FETCH))
    error = caught.value
    assert (error.status, error.code, error.retry_after_s) == (None, None, None)
    assert f"GET /v1/Services/{MG}/ShortCodes/{SC}" in error.message
    assert words in error.message


@pytest.mark.asyncio
async def test_a_connection_that_never_completes_is_never_sent_not_maybe_applied() -> None:
    """A host that accepts TCP and never does TLS: the connect times out on its own limit,
    before the call's, so a POST is known never sent and counts as the network failing."""
    async with silent_listener() as (port, accepted):
        base_url = f"https://127.0.0.1:{port}"
        opened = TwilioClient.open(
            base_url=base_url, credentials=CREDENTIALS, pool_size=2, timeout_s=0.4
        )
        async with opened as client:
            with pytest.raises(TransportError) as caught:
                await client.send(request(Op.ATTACH))
        connections = len(accepted)
    error = caught.value
    assert (error.cause, error.maybe_applied) == (NetworkCause.CONNECT_TIMED_OUT, False)
    assert error.cause.unreachable
    assert connections == 1


LEAKY = f"https://{ACCOUNT}:{PASSWORD}@messaging.twilio.com ({BASIC})"


def shown_chain(error: BaseException | None) -> Iterator[BaseException]:
    """The exceptions a printed traceback of ``error`` would show."""
    while error is not None:
        yield error
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def _answer(status: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "payload": {"code": 20000 + status, "message": "no"},
        "headers": headers or {},
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answer",
    [
        _answer(429, {"Retry-After": "1"}),
        _answer(500),
        _answer(503),
        _answer(401),
        _answer(409),
        _answer(404),
        {"status": 400, "body": b"not json"},
        {"exception": aiohttp.ClientConnectionError(LEAKY)},
        {"exception": aiohttp.ClientOSError(111, LEAKY)},
        {"exception": aiohttp.InvalidURL(LEAKY)},
        {"exception": TimeoutError(LEAKY)},
    ],
    ids=[
        "429",
        "500",
        "503",
        "401",
        "409",
        "404",
        "non-json",
        "connection-error-with-url",
        "os-error-with-url",
        "invalid-url",
        "timeout-with-url",
    ],
)
async def test_error_messages_never_contain_credentials(answer: dict[str, Any]) -> None:
    """No error's text carries the password, the Basic token or the Authorization header."""
    with MockedHTTP() as m:
        m.post(COLLECTION, **answer)
        async with client_for() as client:
            with pytest.raises(ApiError) as caught:
                await client.send(request(Op.ATTACH))
    texts = [t for e in shown_chain(caught.value) for t in (str(e), repr(e))]
    texts.append(caught.value.message)
    for text in texts:
        assert PASSWORD not in text
        assert BASIC.split()[1] not in text
        assert "Authorization" not in text


# --- TwilioClient.open -----------------------------------------------------------------------

CREDENTIALS = Credentials(username=ACCOUNT, password=PASSWORD, account_sid=ACCOUNT)


def open_client(base_url: str = BASE) -> Any:
    return TwilioClient.open(base_url=base_url, credentials=CREDENTIALS, pool_size=2, timeout_s=5)


@pytest.mark.asyncio
async def test_open_yields_a_working_client_and_closes_its_session() -> None:
    """open() makes a client that works, with no deprecated aiohttp API (warnings are errors),
    and closes its session on exit."""
    with MockedHTTP() as m:
        m.get(ITEM, payload=RESOURCE)
        async with open_client() as client:
            session = client._session
            reply = await client.send(request(Op.FETCH))
            assert not session.closed
    assert reply == Reply(200, RESOURCE)
    assert session.closed


@pytest.mark.asyncio
async def test_open_closes_its_session_when_the_body_raises() -> None:
    """The session is closed even when the code using the client fails."""
    sessions: list[Any] = []

    async def fetch() -> None:
        async with open_client() as client:
            sessions.append(client._session)
            await client.send(request(Op.FETCH))

    with MockedHTTP() as m:
        m.get(ITEM, status=503, payload={"message": "down"})
        with pytest.raises(ServerError):
            await fetch()
    (session,) = sessions
    assert session.closed


@pytest.mark.asyncio
async def test_open_sends_basic_auth_form_and_user_agent_on_the_wire() -> None:
    """On a real loopback server, open()'s session sends Basic auth of the credentials.

    aioresponses cannot show this: it records request() arguments, and the session's
    ``auth`` is applied below them.
    """
    seen: list[tuple[dict[str, str], dict[str, str]]] = []

    async def create(request: web.Request) -> web.Response:
        form = await request.post()
        seen.append((dict(request.headers), {k: str(v) for k, v in form.items()}))
        return web.json_response(RESOURCE, status=201)

    app = web.Application()
    app.router.add_post("/v1/Services/{mg}/ShortCodes", create)
    async with (
        TestServer(app, host="127.0.0.1", port=0) as server,
        open_client(str(server.make_url(""))) as client,
    ):
        reply = await client.send(request(Op.ATTACH))
    assert reply == Reply(201, RESOURCE)
    ((headers, form),) = seen
    assert headers["Authorization"] == BASIC
    assert headers["User-Agent"].startswith("bulkops/")
    assert headers["Accept"] == "application/json"
    assert form == {"ShortCodeSid": SC}
