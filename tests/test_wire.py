"""Requests as values: build_request and list_path against Twilio's OpenAPI spec."""

from __future__ import annotations

import json
import random
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from support import mg, sc

import bulkops.twilio
from bulkops.model import Op, SenderKind
from bulkops.twilio import Reply, Request, build_request, list_path, read_page
from bulkops.twilio.wire import API_2010_PREFIX, account_list_path

SPEC = json.loads((Path(__file__).parent / "data" / "twilio_messaging_v1.json").read_text())
SHORT = SenderKind.SHORT_CODE
MG, SC = mg(7), sc(9)


#: Sender collections of a service in the spec, by the names SenderKind describes them with.
KINDS = [pytest.param(kind, id=kind.collection) for kind in SenderKind]


def spec_operation(request: Request, service_sid: str, sender_sid: str) -> dict[str, Any]:
    """The spec's operation for ``request``, found by putting the path's SIDs back as names."""
    template = request.path.split("?")[0].replace(service_sid, "{ServiceSid}")
    template = template.replace(sender_sid, "{Sid}")
    return cast(dict[str, Any], SPEC["paths"][template][request.method.lower()])


@pytest.mark.parametrize("kind", KINDS)
def test_attach_posts_the_create_form_to_the_collection(kind: Any) -> None:
    """attach is the spec's create: POST to the collection with {create_param}=SID, required."""
    request = build_request(Op.ATTACH, kind, MG, SC)
    assert request == Request(
        "POST", f"/v1/Services/{MG}/{kind.collection}", ((kind.create_param, SC),)
    )
    body = spec_operation(request, MG, SC)["requestBody"]["content"]
    schema = body["application/x-www-form-urlencoded"]["schema"]
    assert schema["required"] == [kind.create_param]
    assert request.encoded_form == f"{kind.create_param}={SC}".encode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("op", "method"), [(Op.DETACH, "DELETE"), (Op.FETCH, "GET")])
def test_detach_and_fetch_name_the_sender_in_the_path(kind: Any, op: Op, method: str) -> None:
    """detach is DELETE and fetch is GET of /v1/Services/{ServiceSid}/{collection}/{Sid}."""
    request = build_request(op, kind, MG, SC)
    assert request == Request(method, f"/v1/Services/{MG}/{kind.collection}/{SC}")
    assert request.encoded_form is None
    assert spec_operation(request, MG, SC)  # the spec has this method on this path


def test_migrate_is_not_one_request() -> None:
    """A migration is a detach then an attach; asking for it as one request is a ValueError."""
    with pytest.raises(ValueError, match="detach, then an attach"):
        build_request(Op.MIGRATE, SHORT, MG, SC)


@pytest.mark.parametrize("kind", KINDS)
def test_list_path_asks_for_a_page_size_the_spec_allows(kind: Any) -> None:
    """list_path is GET of the collection with PageSize, which the spec bounds to 1..1000."""
    path = list_path(kind, MG, 250)
    assert path == f"/v1/Services/{MG}/{kind.collection}?PageSize=250"
    operation = spec_operation(Request("GET", path), MG, SC)
    (page_size,) = (p for p in operation["parameters"] if p["name"] == "PageSize")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (1, 1000)
    assert (
        kind.list_key
        in operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    )


def test_target_names_method_and_path_without_the_query() -> None:
    """Error messages get METHOD /path: the query (a page token, say) is left out."""
    request = Request("GET", f"/v1/Services/{MG}/ShortCodes?PageSize=2&PageToken=PTsecret")
    assert request.target == f"GET /v1/Services/{MG}/ShortCodes"


def test_form_values_are_url_encoded() -> None:
    """encoded_form escapes what a form body must: spaces, ampersands, equals signs."""
    request = Request("POST", "/x", (("A", "b c&d=e"), ("F", "g")))
    assert request.encoded_form == b"A=b+c%26d%3De&F=g"


def test_a_request_is_a_frozen_value() -> None:
    """Requests compare by value and cannot be changed."""
    request = build_request(Op.FETCH, SHORT, MG, SC)
    assert request == build_request(Op.FETCH, SHORT, MG, SC)
    with pytest.raises(FrozenInstanceError):
        request.path = "/elsewhere"  # type: ignore[misc]


def test_one_line_shows_method_path_and_form() -> None:
    """one_line is METHOD /path, then a tab and the form: the format --dry-run prints."""
    attach = build_request(Op.ATTACH, SHORT, MG, SC)
    fetch = build_request(Op.FETCH, SHORT, MG, SC)
    assert attach.one_line == f"POST /v1/Services/{MG}/ShortCodes\tShortCodeSid={SC}"
    assert fetch.one_line == f"GET /v1/Services/{MG}/ShortCodes/{SC}"


def test_one_line_shows_form_values_as_people_read_them() -> None:
    """An alpha sender's text is shown as it is, not url-encoded; the body still is encoded."""
    attach = build_request(Op.ATTACH, SenderKind.ALPHA_SENDER, MG, "Acme & Co")
    assert attach.one_line == f"POST /v1/Services/{MG}/AlphaSenders\tAlphaSender=Acme & Co"
    assert attach.encoded_form == b"AlphaSender=Acme+%26+Co"


# --- the account's listings (the 2010 API) ----------------------------------------------------

API_2010 = json.loads((Path(__file__).parent / "data" / "twilio_api_v2010.json").read_text())
ACCOUNT = "AC" + "ab" * 16
LISTED = [pytest.param(k, id=k.value) for k in SenderKind if k.spec.account_listing]


@pytest.mark.parametrize("kind", LISTED)
def test_account_list_path_is_the_spec_listing_with_page_size_and_filter(kind: SenderKind) -> None:
    """GET /2010-04-01/Accounts/{AccountSid}/….json?PageSize=N[&filter=number], encoded."""
    listing = kind.spec.account_listing
    assert listing is not None
    path = account_list_path(listing, ACCOUNT, page_size=1000, number="+14155550100")
    template = listing.path.replace("{AccountSid}", ACCOUNT)
    assert path == f"{template}?PageSize=1000&{listing.filter_param}=%2B14155550100"
    assert path.startswith(API_2010_PREFIX)
    assert "get" in API_2010["paths"][listing.path]
    unfiltered = account_list_path(listing, ACCOUNT, page_size=50)
    assert unfiltered == f"{template}?PageSize=50"


@pytest.mark.parametrize(
    ("body", "expected_next"),
    [
        ({"short_codes": [{"sid": "a"}], "meta": {"next_page_url": "https://x.test/v1/p?Page=1"}},
         "/v1/p?Page=1"),
        ({"short_codes": [{"sid": "a"}], "next_page_uri": "/2010-04-01/Accounts/AC/x.json?Page=1"},
         "/2010-04-01/Accounts/AC/x.json?Page=1"),
        ({"short_codes": [{"sid": "a"}], "next_page_uri": None, "meta": None}, None),
    ],
    ids=["messaging-v1", "api-2010", "last-page"],
)  # fmt: skip
def test_read_page_follows_either_api_paging_as_a_path(
    body: dict[str, Any], expected_next: str | None
) -> None:
    """Messaging v1 pages by meta.next_page_url, the 2010 API by next_page_uri: both as paths."""
    items, next_url = read_page(Reply(200, body), SHORT, target="GET /x")
    assert items == [{"sid": "a"}]
    assert next_url == expected_next


# --- the layer's surface ---------------------------------------------------------------------


def test_all_is_sorted_and_names_what_the_package_has() -> None:
    """bulkops.twilio.__all__ is sorted, and every name in it exists."""
    names = bulkops.twilio.__all__
    assert names == sorted(names)
    assert all(hasattr(bulkops.twilio, name) for name in names)


@pytest.mark.parametrize("seed", range(3))
def test_encoded_form_is_urlencode_for_any_form(seed: int) -> None:
    """The quick path for plain names and values gives exactly what urlencode gives."""
    rng = random.Random(seed)
    alphabet = "aZ09_.-~ &=+/%é✓"
    for _ in range(500):
        form = tuple(
            ("".join(rng.choices(alphabet, k=rng.randint(0, 6))),
             "".join(rng.choices(alphabet, k=rng.randint(0, 6))))
            for _ in range(rng.randint(1, 3))
        )  # fmt: skip
        assert Request("POST", "/x", form).encoded_form == urlencode(form).encode(), form
