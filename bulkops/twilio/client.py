"""Twilio's Messaging Service sender calls over one aiohttp session, with error mapping.

Every non-success answer becomes a typed :mod:`bulkops.errors` exception
carrying status, Twilio code, message and Retry-After. Messages name the method
and path only: never the URL's query, a header or a credential.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from .. import __version__
from ..config import Credentials, RunConfig
from ..errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    ServerError,
    ThrottledError,
    TransportError,
)
from ..model import SenderKind
from ..retry import parse_retry_after

Resource = dict[str, Any]
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: its HTTP status and parsed JSON body (None when empty)."""

    status: int
    body: Any


class TwilioClient:
    """Attach, detach, fetch and list the senders of Messaging Services."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        kind: SenderKind = SenderKind.SHORT_CODE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._kind = kind
        self._now = now

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        *,
        base_url: str,
        credentials: Credentials,
        pool_size: int,
        timeout_s: float,
        kind: SenderKind = SenderKind.SHORT_CODE,
    ) -> AsyncIterator[TwilioClient]:
        """A client with its own session: keep-alive pool of ``pool_size``, TLS verified."""
        connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size)
        basic = base64.b64encode(f"{credentials.username}:{credentials.password}".encode())
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            headers={
                "Authorization": "Basic " + basic.decode("ascii"),
                "User-Agent": f"bulkops/{__version__}",
                "Accept": "application/json",
            },
            raise_for_status=False,
        ) as session:
            yield cls(session, base_url, kind=kind)

    @classmethod
    def open_for(
        cls, config: RunConfig, credentials: Credentials
    ) -> AbstractAsyncContextManager[TwilioClient]:
        """:meth:`open` as a run's configuration says: pool as wide as its concurrency."""
        return cls.open(
            base_url=config.base_url,
            credentials=credentials,
            pool_size=config.concurrency,
            timeout_s=config.timeout_s,
            kind=config.kind,
        )

    def collection_path(self, service_sid: str) -> str:
        return f"/v1/Services/{service_sid}/{self._kind.collection}"

    async def attach(self, service_sid: str, sender_sid: str) -> Reply:
        """``POST …/ShortCodes`` with the sender's SID; returns the resource."""
        form = urlencode({self._kind.create_param: sender_sid}).encode()
        return await self._call("POST", self.collection_path(service_sid), form=form)

    async def detach(self, service_sid: str, sender_sid: str) -> Reply:
        """``DELETE …/ShortCodes/{SID}``."""
        path = f"{self.collection_path(service_sid)}/{sender_sid}"
        return await self._call("DELETE", path)

    async def fetch(self, service_sid: str, sender_sid: str) -> Reply:
        """``GET …/ShortCodes/{SID}``; returns the resource."""
        return await self._call("GET", f"{self.collection_path(service_sid)}/{sender_sid}")

    async def list_page(self, url: str) -> tuple[list[Resource], str | None]:
        """One page of a list: its items and the next page as a path (None on the last).

        ``next_page_url`` is cut to its path and query, to be asked of this client's
        own base URL: the session sends credentials with every request, so following
        an absolute URL from a response body could hand them to another host.
        """
        body = (await self._call("GET", url)).body or {}
        next_url = (body.get("meta") or {}).get("next_page_url")
        if next_url:
            parts = urlsplit(next_url)
            next_url = parts.path + (f"?{parts.query}" if parts.query else "")
        return list(body.get(self._kind.list_key) or []), next_url or None

    def first_page_url(self, service_sid: str, *, page_size: int = 1000) -> str:
        return f"{self.collection_path(service_sid)}?PageSize={page_size}"

    async def _call(self, method: str, path: str, *, form: bytes | None = None) -> Reply:
        """Make one request; a 2xx is a :class:`Reply`, anything else a typed error.

        ``form`` is an already url-encoded body: handing aiohttp a dict makes it
        build a FormData writer per request, a tenth of the client's CPU.
        """
        if not path.startswith("/"):
            raise ValueError(f"the client only asks its own base URL; got {path.split('?')[0]!r}")
        url = self._base + path
        shown = f"{method} {path.split('?', 1)[0]}"
        try:
            async with self._session.request(
                method,
                url,
                data=form,
                headers=_FORM if form is not None else None,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except TimeoutError:
            raise TransportError(f"{shown}: timed out") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{shown}: {type(exc).__name__}") from None
        if 200 <= status < 300:
            try:
                return Reply(status, json.loads(raw) if raw else None)
            except (ValueError, UnicodeDecodeError):  # e.g. a proxy's HTML page
                raise PermanentError(
                    status, None, f"{shown}: HTTP {status}, body not JSON"
                ) from None
        raise self._error(status, raw, retry_after, shown)

    def _error(self, status: int, raw: bytes, retry_after: str | None, shown: str) -> ApiError:
        code, message = None, ""
        try:
            body = json.loads(raw) if raw else {}
            if isinstance(body, dict):
                code = body.get("code") if isinstance(body.get("code"), int) else None
                message = str(body.get("message") or "")
        except (ValueError, UnicodeDecodeError):
            pass
        message = message or f"{shown}: HTTP {status}"
        if status == 429:
            wait = parse_retry_after(retry_after, now=self._now())
            return ThrottledError(status, code, message, retry_after_s=wait)
        if status in (500, 502, 503, 504):
            wait = parse_retry_after(retry_after, now=self._now())
            return ServerError(status, code, message, retry_after_s=wait)
        if status == 401:
            return AuthenticationError(status, code, message)
        return PermanentError(status, code, message)


__all__ = ["Reply", "Resource", "TwilioClient"]
