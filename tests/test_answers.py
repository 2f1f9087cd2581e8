"""What an answer means, without HTTP: replies, typed errors, Retry-After and list pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import mg, sc

from bulkops.errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    ServerError,
    ThrottledError,
)
from bulkops.model import SenderKind
from bulkops.twilio import (
    Reply,
    TwilioCode,
    error_for,
    parse_in_flight,
    parse_retry_after,
    read_page,
    reply_for,
    reply_unread,
)

MG, SC = mg(7), sc(9)
TARGET = f"DELETE /v1/Services/{MG}/ShortCodes/{SC}"
NOW = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)
HTTP_DATE_7S = "Mon, 01 Jan 2024 00:00:07 GMT"


def error(status: int, body: Any, retry_after: str | None = None) -> ApiError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_for(status, raw, retry_after=retry_after, target=TARGET, now=NOW)


# --- Twilio-Concurrent-Requests ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("7", 7), (" 12 ", 12), ("100", 100)],
)
def test_parse_in_flight_reads_a_whole_number(value: str, expected: int) -> None:
    """The header's count of the account's requests in flight, spaces allowed."""
    assert parse_in_flight(value) == expected


@pytest.mark.parametrize("value", [None, "", " ", "-1", "1.5", "ten", "1e3", "٣", "12 3"])
def test_parse_in_flight_gives_none_for_absent_or_malformed(value: str | None) -> None:
    """A missing or bad header reads as no count: it must never steer the engine."""
    assert parse_in_flight(value) is None


def test_replies_and_errors_keep_the_count_they_were_given() -> None:
    """The count rides on the Reply and on every typed error that had an answer."""
    assert reply_for(201, b"{}", target=TARGET, account_in_flight=9).account_in_flight == 9
    assert reply_for(201, b"{}", target=TARGET).account_in_flight is None
    for status in (429, 503, 409):
        raw = b'{"code": 1, "message": "m"}'
        found = error_for(
            status, raw, retry_after=None, target=TARGET, now=NOW, account_in_flight=4
        )
        assert found.account_in_flight == 4, status


# --- 2xx ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b'{"sid": "SC1"}', b"  [1, 2]\n", b"{}"])
def test_an_unread_success_is_a_reply_without_a_body(raw: bytes) -> None:
    """A 2xx whose body nobody needs: checked at a glance, not parsed, body None."""
    assert reply_unread(201, raw, target=TARGET, account_in_flight=3) == Reply(201, None, 3)


@pytest.mark.parametrize("raw", [b"<html>OK</html>", b"OK", b"{broken", b"null"])
def test_an_unread_success_that_is_not_json_at_a_glance_is_a_permanent_error(raw: bytes) -> None:
    """A proxy's page is no success even when the body is not wanted."""
    with pytest.raises(PermanentError, match="body not JSON"):
        reply_unread(200, raw, target=TARGET)


@pytest.mark.parametrize(
    ("status", "raw", "body"),
    [(201, b'{"sid": "SC1"}', {"sid": "SC1"}), (200, b"{}", {}), (204, b"", None)],
)
def test_a_success_is_a_reply_with_its_parsed_body(status: int, raw: bytes, body: Any) -> None:
    """A 2xx answer is Reply(status, JSON body); an empty body (a 204) is None."""
    assert reply_for(status, raw, target=TARGET) == Reply(status, body)


@pytest.mark.parametrize("raw", [b"<html>hello</html>", b"\xff\xfe", b"{"])
def test_a_success_whose_body_is_not_json_is_a_permanent_error(raw: bytes) -> None:
    """A 2xx with a body that is not JSON (a proxy's page, say) fails the row, not the run."""
    with pytest.raises(PermanentError) as caught:
        reply_for(200, raw, target=TARGET)
    assert type(caught.value) is PermanentError
    assert (caught.value.status, caught.value.code) == (200, None)
    assert caught.value.message == f"{TARGET}: HTTP 200, body not JSON"
    assert caught.value.__suppress_context__  # the JSON error is not shown with it


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "retry_after", "kind", "code", "retry_after_s"),
    [
        (429, {"code": 20429, "message": "Too Many Requests"}, "3", ThrottledError, 20429, 3.0),
        (429, {"code": 20429, "message": "Too"}, HTTP_DATE_7S, ThrottledError, 20429, 7.0),
        (429, {"code": 20429, "message": "Too Many Requests"}, None, ThrottledError, 20429, None),
        (500, {"code": 20500, "message": "Internal Server Error"}, None, ServerError, 20500, None),
        (502, {"message": "Bad Gateway"}, None, ServerError, None, None),
        (503, {"message": "Service Unavailable"}, "5", ServerError, None, 5.0),
        (504, {"message": "Gateway Timeout"}, "soon", ServerError, None, None),
        (401, {"code": 20003, "message": "Authenticate"}, None, AuthenticationError, 20003, None),
        (409, {"code": 21710, "message": "already"}, None, PermanentError, 21710, None),
        (409, {"code": 21712, "message": "elsewhere"}, None, PermanentError, 21712, None),
        (412, {"code": 21714, "message": "pool full"}, None, PermanentError, 21714, None),
        (404, {"code": 20404, "message": "not found"}, None, PermanentError, 20404, None),
        (400, {"code": 21421, "message": "invalid"}, "3", PermanentError, 21421, None),
        (501, {"message": "Not Implemented"}, "3", PermanentError, None, None),
    ],
    ids=[
        "429-seconds",
        "429-http-date",
        "429-no-header",
        "500",
        "502",
        "503-retry-after",
        "504-bad-retry-after",
        "401",
        "409-21710",
        "409-21712",
        "412-21714",
        "404",
        "400-retry-after-ignored",
        "501-not-transient",
    ],
)
def test_each_status_maps_to_its_typed_error(  # noqa: PLR0913 - one per parametrize column
    status: int,
    body: dict[str, Any],
    retry_after: str | None,
    kind: type[ApiError],
    code: int | None,
    retry_after_s: float | None,
) -> None:
    """A failing status becomes its error type with status, code, message and Retry-After."""
    mapped = error(status, body, retry_after)
    assert type(mapped) is kind
    assert (mapped.status, mapped.code, mapped.retry_after_s) == (status, code, retry_after_s)
    assert mapped.message == body["message"]


@pytest.mark.parametrize(
    ("status", "kind"), [(400, PermanentError), (502, ServerError), (401, AuthenticationError)]
)
@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Bad Gateway</body></html>",
        b"",
        b"\xff\xfe",
        b"[1, 2]",
        {"code": "21710", "message": ""},
        {"code": None},
    ],
    ids=["html", "empty", "not-utf8", "json-list", "code-as-text", "null-code"],
)
def test_an_error_body_without_code_or_message_still_gives_the_status(
    status: int, kind: type[ApiError], body: Any
) -> None:
    """A body that is not a JSON object, or lacks an int code and a message, says METHOD /path."""
    mapped = error(status, body)
    assert type(mapped) is kind
    assert (mapped.status, mapped.code) == (status, None)
    assert mapped.message == f"{TARGET}: HTTP {status}"


def test_the_named_codes_are_the_plain_numbers() -> None:
    """TwilioCode members equal, and hash as, the ints an error body carries."""
    mapped = error(409, {"code": 21712, "message": "elsewhere"})
    assert mapped.code == TwilioCode.IN_ANOTHER_SERVICE
    by_code: dict[int, str] = {
        TwilioCode.ALREADY_IN_SERVICE: "already",
        TwilioCode.POOL_FULL: "full",
    }
    assert by_code[21710] == "already"
    assert by_code[21714] == "full"
    assert [int(c) for c in TwilioCode] == [20003, 20429, 21710, 21712, 21714]


# --- Retry-After -------------------------------------------------------------------------------

DATE_NOW = datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0", 0.0),
        (" 2.5 ", 2.5),
        ("120", 120.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:50 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:20:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 09:28:00 +0200", 10.0),
        ("Wed, 21 Oct 2015 07:28:05 -0000", 15.0),
    ],
    ids=[
        "seconds",
        "zero",
        "padded-decimal",
        "large",
        "date-future",
        "date-now",
        "date-past",
        "date-offset",
        "date-naive",
    ],
)
def test_parse_retry_after(value: str, expected: float) -> None:
    """Delta-seconds are read as-is; an HTTP date counts from the injected now, floored at 0."""
    assert parse_retry_after(value, now=DATE_NOW) == pytest.approx(expected)


def test_parse_retry_after_date_uses_the_injected_now() -> None:
    """The same HTTP date gives a different wait for a different now."""
    value = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(value, now=DATE_NOW - timedelta(seconds=50)) == pytest.approx(60.0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "soon",
        "3 seconds",
        "0x10",
        "Wed, 99 Foo 2015 07:28:00 GMT",
        "nan",
        "inf",
        "-3",
    ],
)
def test_parse_retry_after_gives_none_for_absent_or_garbage(value: str | None) -> None:
    """A missing or unparseable Retry-After is None, never an exception."""
    assert parse_retry_after(value, now=DATE_NOW) is None


# --- list pages --------------------------------------------------------------------------------

SHORT = SenderKind.SHORT_CODE
LIST = f"GET /v1/Services/{MG}/ShortCodes"


@pytest.mark.parametrize(
    ("next_page_url", "expected"),
    [
        (
            f"https://messaging.twilio.com/v1/Services/{MG}/ShortCodes?PageSize=2&PageToken=PT1",
            f"/v1/Services/{MG}/ShortCodes?PageSize=2&PageToken=PT1",
        ),
        (
            f"https://elsewhere.example/v1/Services/{MG}/ShortCodes?Page=1",
            f"/v1/Services/{MG}/ShortCodes?Page=1",
        ),
        (f"https://elsewhere.example/v1/Services/{MG}/ShortCodes", f"/v1/Services/{MG}/ShortCodes"),
        (None, None),
        ("", None),
    ],
    ids=["own-host", "other-host", "no-query", "null", "empty"],
)
def test_read_page_gives_items_and_the_next_page_as_a_path(
    next_page_url: str | None, expected: str | None
) -> None:
    """The items under the kind's list key, and next_page_url cut to path and query."""
    items = [{"sid": sc(1)}, {"sid": sc(2)}]
    body = {"short_codes": items, "meta": {"next_page_url": next_page_url}}
    assert read_page(Reply(200, body), SHORT, target=LIST) == (items, expected)


@pytest.mark.parametrize(
    "body", [None, {}, {"short_codes": None, "meta": None}, {"phone_numbers": [{"sid": "PN1"}]}]
)
def test_read_page_reads_a_page_without_items_or_meta_as_an_empty_last_page(body: Any) -> None:
    """Missing or null keys (or another kind's items) make an empty last page."""
    assert read_page(Reply(200, body), SHORT, target=LIST) == ([], None)


@pytest.mark.parametrize("body", [[1, 2], "page", 3])
def test_read_page_refuses_a_body_that_is_not_an_object(body: Any) -> None:
    """A list page whose JSON is not an object is a PermanentError naming the request."""
    with pytest.raises(PermanentError, match=f"^HTTP 200 / None: {LIST}: list page is not a"):
        read_page(Reply(200, body), SHORT, target=LIST)
