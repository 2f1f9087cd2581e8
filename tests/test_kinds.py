"""Sender kinds: each description matches Twilio's specs, and job values infer the right kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bulkops.model import KindSpec, SenderKind, infer_kind

DATA = Path(__file__).parent / "data"
MESSAGING = json.loads((DATA / "twilio_messaging_v1.json").read_text())
API_2010 = json.loads((DATA / "twilio_api_v2010.json").read_text())


def schema_of(operation: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The 200/201 JSON schema of ``operation``, with a top-level ``$ref`` followed."""
    responses = operation["responses"]
    answer = responses.get("201") or responses["200"]
    schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
    ref = schema.get("$ref")
    if ref:
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


@pytest.mark.parametrize("kind", list(SenderKind), ids=lambda k: k.value)
def test_each_kind_names_its_collection_form_field_and_list_as_the_spec_does(
    kind: SenderKind,
) -> None:
    """Collection, create field (required), list key, SID pattern and number field are Twilio's."""
    spec = kind.spec
    paths = MESSAGING["paths"]
    collection = paths[f"/v1/Services/{{ServiceSid}}/{spec.collection}"]
    instance = paths[f"/v1/Services/{{ServiceSid}}/{spec.collection}/{{Sid}}"]
    form = collection["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"]["required"] == [spec.create_param]
    page = schema_of(collection["get"], MESSAGING)
    assert spec.list_key in page["properties"]
    resource = schema_of(instance["get"], MESSAGING)["properties"]
    assert resource["sid"]["pattern"] == kind.sid_pattern.pattern
    assert kind.sid_pattern.pattern == f"^{spec.sid_prefix}[0-9a-fA-F]{{32}}$"
    assert spec.number_field in resource
    assert {"get", "delete"} <= set(instance)


@pytest.mark.parametrize("kind", list(SenderKind), ids=lambda k: k.value)
def test_the_create_call_takes_a_sid_exactly_when_the_kind_is_not_created_by_text(
    kind: SenderKind,
) -> None:
    """ShortCodeSid and PhoneNumberSid carry the SID's pattern; AlphaSender is free text."""
    path = f"/v1/Services/{{ServiceSid}}/{kind.collection}"
    form = MESSAGING["paths"][path]["post"]["requestBody"]["content"]
    field = form["application/x-www-form-urlencoded"]["schema"]["properties"][kind.create_param]
    assert ("pattern" not in field) is kind.spec.creates_by_text
    if not kind.spec.creates_by_text:
        assert field["pattern"] == kind.sid_pattern.pattern


@pytest.mark.parametrize(
    "kind", [k for k in SenderKind if k.spec.account_listing], ids=lambda k: k.value
)
def test_account_listings_are_the_2010_apis(kind: SenderKind) -> None:
    """Path, filter, item key, number field and SID pattern match twilio_api_v2010.json."""
    listing = kind.spec.account_listing
    assert listing is not None
    operation = API_2010["paths"][listing.path]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {listing.filter_param, "PageSize", "AccountSid"} <= names
    page = schema_of(operation, API_2010)["properties"]
    assert {listing.list_key, "next_page_uri"} <= set(page)
    item_ref = page[listing.list_key]["items"]["$ref"].rsplit("/", 1)[-1]
    item = API_2010["components"]["schemas"][item_ref]["properties"]
    assert listing.number_field in item
    assert item["sid"]["pattern"] == kind.sid_pattern.pattern
    assert listing.path_for("AC1") == listing.path.replace("{AccountSid}", "AC1")


def test_only_alpha_senders_are_created_by_text_and_outside_the_sender_pool() -> None:
    """Phone numbers and short codes share the 400-sender pool; alpha senders do not."""
    by_text = {k for k in SenderKind if k.spec.creates_by_text}
    pooled = {k for k in SenderKind if k.spec.in_sender_pool}
    assert by_text == {SenderKind.ALPHA_SENDER}
    assert pooled == {SenderKind.SHORT_CODE, SenderKind.PHONE_NUMBER}
    assert SenderKind.ALPHA_SENDER.spec.account_listing is None


def test_only_alpha_senders_may_be_in_several_services_at_once() -> None:
    """One declaration says which kinds are in one service at a time: not alpha senders."""
    several = {k for k in SenderKind if not k.spec.one_service_at_a_time}
    assert several == {SenderKind.ALPHA_SENDER}


@pytest.mark.parametrize(
    ("kind", "written", "sid", "identity"),
    [
        (SenderKind.SHORT_CODE, "12345", "SC" + "a" * 32, "SC" + "a" * 32),
        (SenderKind.PHONE_NUMBER, "+14155550100", None, "+14155550100"),
        (SenderKind.PHONE_NUMBER, "+14155550100", "", "+14155550100"),
        (SenderKind.ALPHA_SENDER, "Acme", "AI" + "b" * 32, "Acme"),
    ],
)
def test_identity_is_the_text_of_a_kind_created_by_text_else_the_sid_once_known(
    kind: SenderKind, written: str, sid: str | None, identity: str
) -> None:
    """The one rule rows, plans, holdings and result records name a sender by."""
    assert kind.spec.identity(written, sid) == identity


def test_the_old_properties_keep_their_values() -> None:
    """collection, create_param, list_key, sid_column, sid_pattern read through the spec."""
    short = SenderKind.SHORT_CODE
    assert (short.collection, short.create_param, short.list_key, short.sid_column) == (
        "ShortCodes",
        "ShortCodeSid",
        "short_codes",
        "short_code_sid",
    )
    assert short.sid_pattern.fullmatch("SC" + "a" * 32)
    assert isinstance(short.spec, KindSpec)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SC" + "0a" * 16, SenderKind.SHORT_CODE),
        ("PN" + "F" * 32, SenderKind.PHONE_NUMBER),
        ("+14155550100", SenderKind.PHONE_NUMBER),
        ("+12345678", SenderKind.PHONE_NUMBER),
        ("+123456789012345", SenderKind.PHONE_NUMBER),
        ("123", SenderKind.SHORT_CODE),
        ("12345678", SenderKind.SHORT_CODE),
        ("MyBrand", SenderKind.ALPHA_SENDER),
        ("A", SenderKind.ALPHA_SENDER),
        ("Acme & Co-1", SenderKind.ALPHA_SENDER),
        ("+1 Brand_x", SenderKind.ALPHA_SENDER),
        ("12", None),
        ("123456789", None),
        ("+1234567", None),
        ("+1234567890123456", None),
        ("123-456", None),
        ("Brand.com", None),
        ("ABCDEFGHIJKL", None),
        ("AI" + "0" * 32, None),
        ("SC" + "0" * 31, None),
        ("", None),
        ("14155550100\n", None),
    ],
)
def test_infer_kind_follows_the_issue_rules(value: str, expected: SenderKind | None) -> None:
    """SIDs by prefix, E.164 → phone number, 3-8 digits → short code, else a valid alpha ID."""
    assert infer_kind(value) is expected
