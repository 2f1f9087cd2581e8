"""Contract tests: every kind of body the sandbox sends, checked against Twilio's OpenAPI spec.

For every sender kind, the create form the tests send and the sandbox's success
bodies are validated against the spec's request and response schemas of that
kind's paths in ``tests/data/twilio_messaging_v1.json`` (``$ref``s resolved
within that document, formats checked; see ``contract_support.py``). The spec
declares no error responses, so error bodies are checked against Twilio's
documented error shape, written out below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from contract_support import (
    MESSAGING,
    format_checker,
    request_validator,
    response_validator,
    schema,
    spec,
)
from jsonschema import ValidationError
from openapi_schema_validator import OAS30Validator
from sandbox_helpers import (
    ALPHA_SENDER,
    MG_A,
    MG_B,
    MG_UNKNOWN,
    PHONE_NUMBER,
    SC_UNKNOWN,
    Api,
    pn,
    seeded_world,
)
from support import sc

from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile, World

#: The spec's resource schema of each kind.
RESOURCE_SCHEMAS = {
    SenderKind.SHORT_CODE: "messaging.v1.service.short_code",
    SenderKind.PHONE_NUMBER: "messaging.v1.service.phone_number",
    SenderKind.ALPHA_SENDER: "messaging.v1.service.alpha_sender",
}
#: What each kind's create call sends, for the n-th sender.
CREATE_VALUES: dict[SenderKind, Callable[[int], str]] = {
    SenderKind.SHORT_CODE: sc,
    SenderKind.PHONE_NUMBER: pn,
    SenderKind.ALPHA_SENDER: lambda n: f"Brand {n}",
}

#: Twilio's error body (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions).
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string", "minLength": 1},
        "more_info": {
            "type": "string",
            "format": "uri",
            "pattern": r"^https://www\.twilio\.com/docs/errors/\d+$",
        },
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
    },
}
ERROR = OAS30Validator(ERROR_SCHEMA, format_checker=format_checker(paths_are_uris=False))


def collection(kind: SenderKind) -> str:
    return f"/v1/Services/{{ServiceSid}}/{kind.collection}"


def instance(kind: SenderKind) -> str:
    return f"/v1/Services/{{ServiceSid}}/{kind.collection}/{{Sid}}"


def assert_full_resource(kind: SenderKind, body: dict[str, Any]) -> None:
    """Stricter than the spec: every field the kind's schema declares is present, none null."""
    resource = schema(MESSAGING, "components", "schemas", RESOURCE_SCHEMAS[kind])
    assert set(body) == set(resource["properties"])
    assert None not in body.values()


def test_every_kind_has_its_paths_in_the_spec() -> None:
    """Each kind's collection and instance paths, create field and list key are the spec's."""
    paths = spec(MESSAGING)["paths"]
    for kind in SenderKind:
        assert {"get", "post"} <= set(paths[collection(kind)])
        assert {"get", "delete"} <= set(paths[instance(kind)])
        form = schema(MESSAGING, "paths", collection(kind), "post", "requestBody", "content")
        fields = form["application/x-www-form-urlencoded"]["schema"]["required"]
        assert fields == [kind.create_param]
        listed = paths[collection(kind)]["get"]["responses"]["200"]["content"]
        assert kind.list_key in listed["application/json"]["schema"]["properties"]


def test_validators_check_formats_and_refs() -> None:
    """The validators reject a bad date-time, a relative URL, a malformed SID or phone number."""
    fetched = response_validator(MESSAGING, instance(PHONE_NUMBER), "get", "200")
    # The create example: the fetch example's phone_number, "12345", is not E.164.
    example = schema(
        MESSAGING, "paths", collection(PHONE_NUMBER), "post", "responses", "201", "content"
    )["application/json"]["examples"]["createWithCapabilities"]["value"]
    fetched.validate(example)
    bad_values = (
        ("date_created", "30/07/2015"),
        ("url", "/v1/x"),
        ("sid", "SC" + "a" * 32),
        ("phone_number", "4155550100"),
    )
    for field, bad in bad_values:
        with pytest.raises(ValidationError):
            fetched.validate({**example, field: bad})
    with pytest.raises(ValidationError):
        ERROR.validate({"code": 1, "message": "m", "more_info": "x", "status": 400, "extra": 1})
    create = request_validator(MESSAGING, collection(PHONE_NUMBER), "post")
    with pytest.raises(ValidationError):
        create.validate({"PhoneNumberSid": sc(1)})


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", list(SenderKind), ids=lambda k: k.value)
async def test_create_fetch_and_list_bodies_match_the_spec(open_api, kind: SenderKind) -> None:
    """Per kind: the create form validates, and create (201), fetch (200) and every list page
    (first, middle, last, empty) validate against that kind's schemas."""
    world = seeded_world(short_codes=5, phone_numbers=5)
    form = request_validator(MESSAGING, collection(kind), "post")
    created_v = response_validator(MESSAGING, collection(kind), "post", "201")
    fetched_v = response_validator(MESSAGING, instance(kind), "get", "200")
    listed_v = response_validator(MESSAGING, collection(kind), "get", "200")
    make = CREATE_VALUES[kind]
    async with open_api(world_=world) as api:
        for n in range(1, 6):
            form.validate({kind.create_param: make(n)})
            status, created = await api.create(MG_A, make(n), kind)
            assert status == 201
            created_v.validate(created)
            assert_full_resource(kind, created)
        status, fetched = await api.fetch(MG_A, created["sid"], kind)
        assert status == 200
        fetched_v.validate(fetched)
        assert_full_resource(kind, fetched)
        url: str | None = f"{api.collection(MG_A, kind)}?PageSize=2"
        pages = 0
        while url:
            status, page, _ = await api.call("GET", url)
            assert status == 200
            listed_v.validate(page)
            assert set(page["meta"]) == _list_meta_properties(kind)
            for item in page[kind.list_key]:
                assert_full_resource(kind, item)
            url = page["meta"]["next_page_url"]
            pages += 1
        assert pages == 3
        status, empty = await api.page(MG_B, kind)
        listed_v.validate(empty)
        assert empty[kind.list_key] == []


def _list_meta_properties(kind: SenderKind) -> set[str]:
    listed = schema(MESSAGING, "paths", collection(kind), "get", "responses", "200", "content")
    return set(listed["application/json"]["schema"]["properties"]["meta"]["properties"])


Case = Callable[[Api], Awaitable[tuple[int, Any]]]


async def _pool_full(api: Api) -> tuple[int, Any]:
    return await api.create(MG_B, sc(3))


async def _unauthenticated(api: Api) -> tuple[int, Any]:
    status, body, _ = await api.call("GET", api.collection(MG_A), headers={})
    return status, body


async def _wrong_method(api: Api) -> tuple[int, Any]:
    status, body, _ = await api.call("PATCH", api.collection(MG_A))
    return status, body


async def _missing_param(api: Api) -> tuple[int, Any]:
    status, body, _ = await api.call("POST", api.collection(MG_A), data={})
    return status, body


async def _other_account(api: Api) -> tuple[int, Any]:
    status, body, _ = await api.call("GET", api.account_listing(PHONE_NUMBER, "AC" + "0" * 32))
    return status, body


ERROR_CASES: dict[str, tuple[int, int, Case, LoadProfile | None]] = {
    "malformed-service": (400, 21421, lambda api: api.create("MG1", sc(1)), None),
    "malformed-short-code": (400, 21421, lambda api: api.create(MG_A, "SC1"), None),
    "missing-param": (400, 20001, _missing_param, None),
    "not-on-account": (400, 80303, lambda api: api.create(MG_A, SC_UNKNOWN), None),
    "unauthenticated": (401, 20003, _unauthenticated, None),
    "unknown-service": (404, 20404, lambda api: api.fetch(MG_UNKNOWN, sc(1)), None),
    "not-attached": (404, 20404, lambda api: api.delete(MG_A, sc(1)), None),
    "wrong-method": (405, 20004, _wrong_method, None),
    "already-here": (409, 21710, lambda api: api.create(MG_B, sc(1)), None),
    "elsewhere": (409, 21712, lambda api: api.create(MG_A, sc(2)), None),
    "pool-full": (412, 21714, _pool_full, None),
    "pool-full-phone": (412, 21714, lambda api: api.create(MG_B, pn(1), PHONE_NUMBER), None),
    "phone-not-on-account": (
        400,
        80303,
        lambda api: api.create(MG_A, "PN" + "f" * 32, PHONE_NUMBER),
        None,
    ),
    "bad-alpha-text": (400, 21709, lambda api: api.create(MG_A, "12345", ALPHA_SENDER), None),
    "alpha-already-here": (
        409,
        21710,
        lambda api: api.create(MG_B, "Brand", ALPHA_SENDER),
        None,
    ),
    "other-account": (404, 20404, _other_account, None),
    "listing-page-size": (
        400,
        20007,
        lambda api: api.account_page(PHONE_NUMBER, PageSize=0),
        None,
    ),
    "page-size": (400, 20007, lambda api: api.page(MG_A, PageSize=1001), None),
    "page-token": (400, 21481, lambda api: api.page(MG_A, PageToken="nope"), None),
    "throttled": (429, 20429, lambda api: api.page(MG_A), LoadProfile(max_per_second=1)),
    "server-error": (500, 20500, lambda api: api.page(MG_A), LoadProfile(fail_500_p=1)),
    "unavailable": (503, 20503, lambda api: api.page(MG_A), LoadProfile(fail_503_p=1)),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(ERROR_CASES))
async def test_error_bodies_have_twilios_shape(open_api, name: str) -> None:
    """Each error body has exactly code, message, more_info and status, and validates."""
    http_status, code, case, load = ERROR_CASES[name]
    world = seeded_world(short_codes=3, phone_numbers=1)
    world = World.from_json({**world.to_json(), "max_senders_per_service": 2})
    world.attach(MG_B, SenderKind.SHORT_CODE, sc(1))
    world.attach(MG_B, SenderKind.SHORT_CODE, sc(2))
    world.attach(MG_B, ALPHA_SENDER, "Brand")
    async with open_api(load=load, world_=world) as api:
        if name == "throttled":
            await api.page(MG_A)  # uses up the one request of this second
        status, body = await case(api)
        assert api.last_response is not None
        assert api.last_response.content_type == "application/json"
    assert status == http_status
    ERROR.validate(body)
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (code, http_status)
