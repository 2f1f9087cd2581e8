"""The errors the sandbox answers with, in Twilio's own shape.

Every error body is exactly ``{"code", "message", "more_info", "status"}``, as
Twilio's REST API sends them. World operations raise :class:`TwilioProblem`; the
app turns it into the response. The factories below hold the codes and texts in
one place.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


class TwilioProblem(Exception):
    """A request Twilio would refuse: HTTP status, Twilio error code, message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status}/{code}: {message}")

    def body(self) -> dict[str, object]:
        """The JSON error body, exactly the four keys Twilio sends."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }

    def response(self, *, headers: dict[str, str] | None = None) -> web.Response:
        """The aiohttp response carrying this error."""
        from aiohttp import web  # only the server answers; the world just raises

        return web.Response(
            status=self.status,
            body=json.dumps(self.body()).encode(),
            content_type="application/json",
            headers=headers,
        )


def authenticate() -> TwilioProblem:
    """401/20003: no, malformed or wrong HTTP Basic credentials."""
    return TwilioProblem(401, 20003, "Authenticate")


def not_found(path: str) -> TwilioProblem:
    """404/20404: the resource at ``path`` does not exist."""
    return TwilioProblem(404, 20404, f"The requested resource {path} was not found")


def method_not_allowed(method: str) -> TwilioProblem:
    """405/20004: the path exists but not for this method."""
    return TwilioProblem(405, 20004, f"Method not allowed: {method}")


def invalid_sid(param: str, value: str) -> TwilioProblem:
    """400/21421: a SID that does not have the shape of its kind."""
    return TwilioProblem(400, 21421, f"{param} is invalid: {value!r} is not a valid SID")


def invalid_alpha_sender(text: str) -> TwilioProblem:
    """400/21709: ``AlphaSender`` is not 1–11 of A–Z a–z 0–9 space + - _ & with a letter."""
    return TwilioProblem(
        400,
        21709,
        f"Alpha Sender ID is Invalid or Not Authorized for this Messaging Service: {text!r}",
    )


def missing_param(param: str) -> TwilioProblem:
    """400/20001: a required form parameter is absent."""
    return TwilioProblem(400, 20001, f"Missing required parameter {param} in the post body")


def not_on_account(sid: str) -> TwilioProblem:
    """400/80303: a well-formed sender SID the account does not own."""
    return TwilioProblem(400, 80303, f"{sid} was not found on this account")


def already_in_service(sender: str) -> TwilioProblem:
    """409/21710: the sender (a SID, or an alpha sender's text) is already in this service."""
    return TwilioProblem(409, 21710, f"{sender} is already in the Messaging Service")


def in_another_service(sid: str) -> TwilioProblem:
    """409/21712: the sender belongs to another Messaging Service."""
    return TwilioProblem(409, 21712, f"{sid} is associated with another Messaging Service")


def pool_full(limit: int) -> TwilioProblem:
    """412/21714: the service's sender pool is at its size limit."""
    return TwilioProblem(
        412, 21714, f"Messaging Service Number Pool size limit reached ({limit} senders)"
    )


def bad_page_size(value: str) -> TwilioProblem:
    """400/20007: PageSize is not an integer from 1 to 1000."""
    return TwilioProblem(
        400, 20007, f"Invalid paging parameter: {value!r} (PageSize must be 1 to 1000)"
    )


def bad_page(value: str) -> TwilioProblem:
    """400/20007: Page is not a non-negative integer."""
    return TwilioProblem(400, 20007, f"Invalid paging parameter: Page {value!r}")


def bad_page_token(value: str) -> TwilioProblem:
    """400/21481: a PageToken this API never issued."""
    return TwilioProblem(400, 21481, f"Invalid PageToken: {value!r}")


def too_many_requests() -> TwilioProblem:
    """429/20429: the account is over its concurrency or rate limit."""
    return TwilioProblem(429, 20429, "Too Many Requests")


def internal_error() -> TwilioProblem:
    """500/20500: an (injected) internal server error."""
    return TwilioProblem(500, 20500, "Internal Server Error")


def unavailable() -> TwilioProblem:
    """503/20503: the service is (by injection) temporarily unavailable."""
    return TwilioProblem(503, 20503, "Service Unavailable")
