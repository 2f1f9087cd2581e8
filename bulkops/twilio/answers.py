"""What an HTTP answer from Twilio means: a :class:`Reply`, a typed error, a list page.

Pure functions of status, body bytes and headers, so every case is tested without
HTTP. The mapping (Twilio documents 429 as never processed and safe to retry, and
500/502/503/504 as transient)::

    2xx, JSON or empty body      Reply(status, body)   (body None when not asked for)
    2xx, any other body          PermanentError   (e.g. a proxy's HTML page)
    429                          ThrottledError   retry_after_s from Retry-After
    500, 502, 503, 504           ServerError      retry_after_s from Retry-After
    401                          AuthenticationError
    anything else                PermanentError

Errors carry the status, Twilio's ``code`` and ``message`` from a JSON error body
(``{"code": 21710, "message": "…"}``); when the body has no message, the message
is the request's ``METHOD /path`` and status, never a header or the query.
Replies and errors alike carry the account's requests in flight from the
``Twilio-Concurrent-Requests`` header (:func:`parse_in_flight`), None without it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    ServerError,
    ThrottledError,
)
from .wire import Reply, read_page

_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_TRANSIENT_5XX = frozenset({500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3); None if absent or bad.

    Reads delta-seconds (``"3"``, ``"2.5"``) as-is, and an HTTP date as seconds from
    ``now`` (default: the current UTC time), floored at 0. Never raises.
    """
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max((when - now).total_seconds(), 0.0)


def parse_in_flight(value: str | None) -> int | None:
    """The account's requests in flight from a ``Twilio-Concurrent-Requests`` header.

    A whole number of digits (surrounding spaces allowed) gives that number; an
    absent, empty, negative or malformed value gives None, so a bad header never
    steers the engine. Never raises.
    """
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and value.isascii() else None


def reply_for(
    status: int, raw: bytes, *, target: str, account_in_flight: int | None = None
) -> Reply:
    """A 2xx answer as a :class:`Reply`: ``raw`` parsed as JSON, or None when empty.

    ``target`` is the request's ``METHOD /path`` for the message;
    ``account_in_flight`` is the parsed concurrency header, kept on the reply.
    Raises :class:`~bulkops.errors.PermanentError` when the body is not JSON: the
    call's effect is unknown, so the row fails rather than the run.
    """
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        raise PermanentError(status, None, f"{target}: HTTP {status}, body not JSON") from None
    return Reply(status, body, account_in_flight)


def reply_unread(
    status: int, raw: bytes, *, target: str, account_in_flight: int | None = None
) -> Reply:
    """A 2xx answer whose body the caller does not need: :func:`reply_for` without the parse.

    The body is still checked to be JSON at a glance (empty, or an object or
    array by its first and last bytes), so a proxy's HTML page is still a
    :class:`~bulkops.errors.PermanentError`; a truncated body never gets here
    (the client's read fails first). Parsing a resource the engine throws away
    cost a microsecond or more a call. Returns ``Reply(status, None, ...)``.
    """
    body = raw.strip()
    if body and not (body[:1] in (b"{", b"[") and body[-1:] in (b"}", b"]")):
        raise PermanentError(status, None, f"{target}: HTTP {status}, body not JSON")
    return Reply(status, None, account_in_flight)


def error_for(  # noqa: PLR0913 - one keyword per header and clock the mapping reads
    status: int,
    raw: bytes,
    *,
    retry_after: str | None,
    target: str,
    now: datetime,
    account_in_flight: int | None = None,
) -> ApiError:
    """The typed error for a non-2xx answer (see the module's table); returned, not raised.

    ``raw`` is the body, read for Twilio's ``code`` (an int) and ``message`` when it
    is a JSON object; ``retry_after`` is the ``Retry-After`` header, read for 429
    and 5xx only, dates counted from ``now``; ``account_in_flight`` is the parsed
    concurrency header, kept on the error (on a 429 it is the count that left no
    room: the account's limit, as far as Twilio counted).
    """
    code, message = _code_and_message(raw)
    message = message or f"{target}: HTTP {status}"
    if status == 429:
        wait = parse_retry_after(retry_after, now=now)
        return ThrottledError(
            status, code, message, retry_after_s=wait, account_in_flight=account_in_flight
        )
    if status in _TRANSIENT_5XX:
        wait = parse_retry_after(retry_after, now=now)
        return ServerError(
            status, code, message, retry_after_s=wait, account_in_flight=account_in_flight
        )
    if status == 401:
        return AuthenticationError(status, code, message)
    return PermanentError(status, code, message, account_in_flight=account_in_flight)


def _code_and_message(raw: bytes) -> tuple[int | None, str]:
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    return (code if isinstance(code, int) else None), str(body.get("message") or "")


__all__ = [
    "error_for",
    "parse_in_flight",
    "parse_retry_after",
    "read_page",
    "reply_for",
    "reply_unread",
]
