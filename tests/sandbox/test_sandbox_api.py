"""The ShortCodes routes and Twilio's rules, over real loopback sockets."""

from __future__ import annotations

import aiohttp
import pytest
from sandbox_helpers import MG_A, MG_B, MG_UNKNOWN, SC_UNKNOWN, Api
from support import sc

from bulkops.sandbox import MAX_SENDERS_PER_SERVICE, World

pytestmark = pytest.mark.asyncio


def expect_error(status: int, body: dict, http_status: int, code: int) -> None:
    assert (status, body["status"], body["code"]) == (http_status, http_status, code)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert set(body) == {"code", "message", "more_info", "status"}


async def test_create_attaches_and_returns_the_resource(api: Api, world: World) -> None:
    """POST answers 201 with the resource and attaches the short code."""
    status, body = await api.create(MG_A, sc(3))
    assert status == 201
    assert body["sid"] == sc(3)
    assert body["service_sid"] == MG_A
    assert body["account_sid"] == world.account_sid
    assert body["short_code"].isdigit()
    assert len(body["short_code"]) == 5
    assert body["country_code"] == "US"
    assert body["capabilities"] in (["SMS"], ["SMS", "MMS"])
    assert body["url"] == f"{api.base_url}/v1/Services/{MG_A}/ShortCodes/{sc(3)}"
    assert world.senders[sc(3)].service_sid == MG_A


async def test_fetch_returns_the_attached_resource(api: Api) -> None:
    """GET of an attached short code answers 200 with the same resource as create."""
    _, created = await api.create(MG_A, sc(1))
    status, fetched = await api.fetch(MG_A, sc(1))
    assert (status, fetched) == (200, created)


async def test_delete_detaches_with_empty_204(api: Api, world: World) -> None:
    """DELETE answers 204 with no body, after which the short code can be attached elsewhere."""
    await api.create(MG_A, sc(1))
    status, body, response = await api.call("DELETE", f"{api.collection(MG_A)}/{sc(1)}")
    assert (status, body) == (204, None)  # None: the body was empty
    assert response.content_length in (None, 0)
    assert world.senders[sc(1)].service_sid is None
    assert (await api.create(MG_B, sc(1)))[0] == 201


async def test_already_in_this_service_is_409_21710(api: Api) -> None:
    """Attaching twice to the same service answers 409/21710."""
    await api.create(MG_A, sc(1))
    expect_error(*await api.create(MG_A, sc(1)), 409, 21710)


async def test_in_another_service_is_409_21712(api: Api, world: World) -> None:
    """Attaching a short code that another service holds answers 409/21712 and moves nothing."""
    await api.create(MG_B, sc(1))
    expect_error(*await api.create(MG_A, sc(1)), 409, 21712)
    assert world.senders[sc(1)].service_sid == MG_B


async def test_pool_of_400_is_full_with_412_21714(open_api) -> None:
    """The 401st sender of one service answers 412/21714."""
    world = World()
    count = MAX_SENDERS_PER_SERVICE + 1
    world.seed(service_sids=[MG_A], short_code_sids=[sc(i) for i in range(1, count + 1)])
    for i in range(1, count):
        world.attach(MG_A, world.senders[sc(i)].kind, sc(i))
    async with open_api(world_=world) as api:
        expect_error(*await api.create(MG_A, sc(count)), 412, 21714)
        assert world.senders[sc(count)].service_sid is None
        assert (await api.delete(MG_A, sc(1)))[0] == 204
        assert (await api.create(MG_A, sc(count)))[0] == 201


@pytest.mark.parametrize(
    ("service_sid", "sid"),
    [
        ("MG123", sc(1)),
        ("MG" + "g" * 32, sc(1)),
        (MG_A, "SC123"),
        (MG_A, "PN" + "a" * 32),
        (MG_A, "sc" + "a" * 32),
    ],
)
async def test_malformed_sid_is_400_21421(api: Api, service_sid: str, sid: str) -> None:
    """A service path or ShortCodeSid not shaped like a SID answers 400/21421."""
    expect_error(*await api.create(service_sid, sid), 400, 21421)


async def test_malformed_service_in_fetch_and_list_is_400_21421(api: Api) -> None:
    """The service path is checked the same way on every route."""
    expect_error(*await api.fetch("MGnope", sc(1)), 400, 21421)
    expect_error(*await api.page("MGnope"), 400, 21421)


async def test_missing_short_code_sid_is_400(api: Api) -> None:
    """A create without ShortCodeSid answers 400/20001."""
    status, body, _ = await api.call("POST", api.collection(MG_A), data={"Other": "x"})
    expect_error(status, body, 400, 20001)


async def test_short_code_not_on_account_is_400_80303(api: Api) -> None:
    """A well-formed SID the account does not own answers 400/80303."""
    expect_error(*await api.create(MG_A, SC_UNKNOWN), 400, 80303)


@pytest.mark.parametrize("method", ["POST", "GET", "FETCH", "DELETE"])
async def test_unknown_service_is_404_20404(api: Api, method: str) -> None:
    """Every route answers 404/20404 for a service that does not exist."""
    if method == "POST":
        result = await api.create(MG_UNKNOWN, sc(1))
    elif method == "GET":
        result = await api.page(MG_UNKNOWN)
    elif method == "FETCH":
        result = await api.fetch(MG_UNKNOWN, sc(1))
    else:
        result = await api.delete(MG_UNKNOWN, sc(1))
    expect_error(*result, 404, 20404)
    assert MG_UNKNOWN in result[1]["message"]


@pytest.mark.parametrize("sid", [sc(1), sc(2), SC_UNKNOWN, "whatever"])
async def test_fetch_and_delete_of_a_sender_not_in_the_service_are_404(
    api: Api, world: World, sid: str
) -> None:
    """Fetch and delete answer 404/20404 unless the short code is attached to this service."""
    await api.create(MG_B, sc(2))
    expect_error(*await api.fetch(MG_A, sid), 404, 20404)
    expect_error(*await api.delete(MG_A, sid), 404, 20404)
    assert world.senders[sc(2)].service_sid == MG_B


async def test_errors_are_json(api: Api) -> None:
    """Error bodies are sent as application/json."""
    _, _, response = await api.call("POST", api.collection(MG_A), data={"ShortCodeSid": "x"})
    assert response.content_type == "application/json"


async def test_unknown_path_and_wrong_method_are_twilio_errors(api: Api) -> None:
    """Unknown paths answer 404/20404 and wrong methods 405/20004, in Twilio's shape."""
    expect_error(*(await api.call("GET", f"{api.base_url}/v1/Nope"))[:2], 404, 20404)
    expect_error(*(await api.call("PUT", api.collection(MG_A)))[:2], 405, 20004)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic not-base64!"},
        {
            "Authorization": aiohttp.encode_basic_auth(
                "AC" + "0" * 32, "sandbox-auth-token-not-a-secret"
            )
        },
        {"Authorization": aiohttp.encode_basic_auth("AC" + "5a4db0c5" * 4, "wrong")},
        {"Authorization": aiohttp.encode_basic_auth("SK" + "1" * 32, "secret")},
    ],
    ids=["none", "bearer", "garbage", "other-account", "wrong-token", "unknown-key"],
)
async def test_bad_credentials_are_401_20003(api: Api, world: World, headers: dict) -> None:
    """Requests without the account's credentials answer 401/20003 and change nothing."""
    status, body, response = await api.call(
        "POST", api.collection(MG_A), data={"ShortCodeSid": sc(1)}, headers=headers
    )
    expect_error(status, body, 401, 20003)
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert world.senders[sc(1)].service_sid is None


async def test_api_key_with_its_secret_authenticates(api: Api, world: World) -> None:
    """An API key SID and its secret authenticate; the key with another secret does not."""
    key = "SK" + "1" * 32
    world.add_api_key(key, "key-secret")
    good = {"Authorization": aiohttp.encode_basic_auth(key, "key-secret")}
    bad = {"Authorization": aiohttp.encode_basic_auth(key, world.auth_token)}
    assert (await api.create(MG_A, sc(1), headers=good))[0] == 201
    assert (await api.fetch(MG_A, sc(1), headers=bad))[0] == 401


async def test_sandbox_endpoints_need_no_auth(api: Api) -> None:
    """/sandbox/stats answers without credentials."""
    status, body, _ = await api.call("GET", f"{api.base_url}/sandbox/stats", headers={})
    assert status == 200
    assert body["requests"] == 0


async def test_world_endpoint_hides_credentials(api: Api) -> None:
    """/sandbox/world shows services and senders but no token or key secrets."""
    await api.create(MG_A, sc(1))
    status, body, _ = await api.call("GET", f"{api.base_url}/sandbox/world", headers={})
    assert status == 200
    assert "auth_token" not in body
    assert "api_keys" not in body
    assert body["services"] == [MG_A, MG_B]
    assert [s["service_sid"] for s in body["senders"] if s["sid"] == sc(1)] == [MG_A]
