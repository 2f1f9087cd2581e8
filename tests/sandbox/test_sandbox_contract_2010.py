"""Contract tests of the account listings against Twilio's 2010-04-01 OpenAPI spec.

Every page of ``IncomingPhoneNumbers.json`` and ``SMS/ShortCodes.json`` is
validated against the list response schema of ``tests/data/twilio_api_v2010.json``
(items: ``api.v2010.account.incoming_phone_number`` / ``api.v2010.account.short_code``),
with its formats checked; page URIs are paths on the same host, as Twilio's are.
"""

from __future__ import annotations

import pytest
from contract_support import API_2010, response_validator, schema
from jsonschema import ValidationError
from sandbox_helpers import MG_A, PHONE_NUMBER, SHORT_CODE, Api, pn
from support import sc

from bulkops.model import SenderKind
from bulkops.sandbox import World

ACCOUNT_KINDS = [kind for kind in SenderKind if kind.spec.account_listing is not None]
ITEM_SCHEMAS = {
    SenderKind.PHONE_NUMBER: "api.v2010.account.incoming_phone_number",
    SenderKind.SHORT_CODE: "api.v2010.account.short_code",
}


def listing_path(kind: SenderKind) -> str:
    listing = kind.spec.account_listing
    assert listing is not None
    return listing.path


def test_the_listings_are_the_specs() -> None:
    """Each listing's path, filter, list key and number field are in the 2010 spec."""
    assert ACCOUNT_KINDS == [SenderKind.SHORT_CODE, SenderKind.PHONE_NUMBER]
    for kind in ACCOUNT_KINDS:
        listing = kind.spec.account_listing
        assert listing is not None
        operation = schema(API_2010, "paths", listing.path, "get")
        assert listing.filter_param in {p["name"] for p in operation["parameters"]}
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert listing.list_key in body["properties"]
        item = schema(API_2010, "components", "schemas", ITEM_SCHEMAS[kind])
        assert listing.number_field in item["properties"]


def test_validator_checks_2010_formats() -> None:
    """The 2010 validator takes the spec's own example, and rejects ISO dates and bad numbers."""
    validate = response_validator(API_2010, listing_path(PHONE_NUMBER), "get", "200").validate
    content = schema(API_2010, "paths", listing_path(PHONE_NUMBER), "get", "responses", "200")
    example = content["content"]["application/json"]["examples"]["readFull"]["value"]
    # The example writes "" for unset SIDs, which its own schema (34 characters) refuses;
    # the sandbox writes null, as the schema allows.
    item = {k: None if v == "" else v for k, v in example["incoming_phone_numbers"][0].items()}
    example = {**example, "incoming_phone_numbers": [item]}
    validate(example)
    for field, bad in (("date_created", "2015-07-30T23:19:04Z"), ("phone_number", "8089255327")):
        with pytest.raises(ValidationError):
            validate({**example, "incoming_phone_numbers": [{**item, field: bad}]})


@pytest.fixture
def world() -> World:
    """Phone numbers and short codes by SID and by number, some attached."""
    world = World()
    world.seed(service_sids=[MG_A], short_code_sids=[sc(1), sc(2)], phone_number_sids=[pn(1)])
    world.seed_senders(PHONE_NUMBER, ["+14155550100", "+447700900123"])
    world.seed_senders(SHORT_CODE, ["12345"])
    world.attach(MG_A, PHONE_NUMBER, pn(1))
    world.attach(MG_A, SHORT_CODE, sc(1))
    return world


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ACCOUNT_KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("filtered", [False, True], ids=["all", "filtered"])
async def test_every_page_matches_the_spec(api: Api, kind: SenderKind, filtered: bool) -> None:
    """Every page (first, middle, last), filtered or not, validates; items have every field."""
    listing = kind.spec.account_listing
    assert listing is not None
    validate = response_validator(API_2010, listing.path, "get", "200").validate
    page_keys = set(
        schema(API_2010, "paths", listing.path, "get", "responses", "200", "content")[
            "application/json"
        ]["schema"]["properties"]
    )
    item_keys = set(schema(API_2010, "components", "schemas", ITEM_SCHEMAS[kind])["properties"])
    params = {"PageSize": "1", **({listing.filter_param: "1"} if filtered else {})}
    status, page = await api.account_page(kind, **params)
    pages = 0
    while True:
        assert status == 200
        validate(page)
        assert set(page) == page_keys
        assert len(page[listing.list_key]) == 1
        assert all(set(item) == item_keys for item in page[listing.list_key])
        pages += 1
        if page["next_page_uri"] is None:
            break
        status, page, _ = await api.call("GET", api.base_url + page["next_page_uri"])
    assert pages == 3
