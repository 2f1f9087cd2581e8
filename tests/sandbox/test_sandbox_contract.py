"""Contract tests: every kind of body the sandbox sends, checked against Twilio's OpenAPI spec.

Success bodies are validated against the response schemas of the ShortCodes paths in
``tests/data/twilio_messaging_v1.json`` (``$ref``s resolved within that document, with
``date-time`` and ``uri`` formats checked). The spec declares no error responses, so
error bodies are checked against Twilio's documented error shape, written out below.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from jsonschema import FormatChecker, ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4
from sandbox_helpers import MG_A, MG_B, MG_UNKNOWN, SC_UNKNOWN, Api, seeded_world
from support import sc

from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile, World

SPEC_PATH = Path(__file__).parents[1] / "data" / "twilio_messaging_v1.json"
SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
SPEC_URI = "urn:twilio-oai:messaging-v1"
COLLECTION = "/v1/Services/{ServiceSid}/ShortCodes"
INSTANCE = "/v1/Services/{ServiceSid}/ShortCodes/{Sid}"
RESOURCE = SPEC["components"]["schemas"]["messaging.v1.service.short_code"]

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

FORMATS = FormatChecker(formats=())
FORMATS.checkers.update(OAS30Validator.FORMAT_CHECKER.checkers)


@FORMATS.checks("uri")
def _is_absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="~") for p in parts)


def response_validator(path: str, method: str, status: str) -> Any:
    """A validator for the JSON body the spec declares for ``method path`` → ``status``."""
    registry = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(SPEC))
    pointer = _pointer(
        "paths", path, method, "responses", status, "content", "application/json", "schema"
    )
    return OAS30Validator({"$ref": SPEC_URI + pointer}, registry=registry, format_checker=FORMATS)


CREATED = response_validator(COLLECTION, "post", "201")
FETCHED = response_validator(INSTANCE, "get", "200")
LISTED = response_validator(COLLECTION, "get", "200")
ERROR = OAS30Validator(ERROR_SCHEMA, format_checker=FORMATS)


def assert_full_resource(body: dict[str, Any]) -> None:
    """Stricter than the spec: every declared field is present and none is null."""
    assert set(body) == set(RESOURCE["properties"])
    assert None not in body.values()


def test_validators_check_formats_and_refs() -> None:
    """The validators reject a bad date-time, a relative URL and a malformed SID."""
    example = SPEC["paths"][INSTANCE]["get"]["responses"]["200"]["content"]["application/json"][
        "examples"
    ]["fetch"]["value"]
    FETCHED.validate(example)
    for field, bad in (("date_created", "30/07/2015"), ("url", "/v1/x"), ("sid", "SC1")):
        with pytest.raises(ValidationError):
            FETCHED.validate({**example, field: bad})
    with pytest.raises(ValidationError):
        ERROR.validate({"code": 1, "message": "m", "more_info": "x", "status": 400, "extra": 1})


@pytest.mark.asyncio
async def test_create_fetch_and_list_bodies_match_the_spec(open_api) -> None:
    """Create (201), fetch (200) and every list page (first, middle, last, empty) validate."""
    async with open_api() as api:
        status, created = await api.create(MG_A, sc(1))
        assert status == 201
        CREATED.validate(created)
        assert_full_resource(created)
        status, fetched = await api.fetch(MG_A, sc(1))
        assert status == 200
        FETCHED.validate(fetched)
        assert_full_resource(fetched)
        for n in range(2, 6):
            await api.create(MG_A, sc(n))
        url: str | None = f"{api.collection(MG_A)}?PageSize=2"
        pages = 0
        while url:
            status, page, _ = await api.call("GET", url)
            assert status == 200
            LISTED.validate(page)
            assert set(page["meta"]) == _list_meta_properties()
            for item in page["short_codes"]:
                assert_full_resource(item)
            url = page["meta"]["next_page_url"]
            pages += 1
        assert pages == 3
        status, empty = await api.page(MG_B)
        LISTED.validate(empty)


def _list_meta_properties() -> set[str]:
    schema = SPEC["paths"][COLLECTION]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    return set(schema["properties"]["meta"]["properties"])


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
    world = seeded_world(short_codes=3)
    world = World.from_json({**world.to_json(), "max_senders_per_service": 2})
    world.attach(MG_B, SenderKind.SHORT_CODE, sc(1))
    world.attach(MG_B, SenderKind.SHORT_CODE, sc(2))
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
