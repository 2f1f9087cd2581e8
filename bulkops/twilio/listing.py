"""Every sender of a service, page by page: the paged, retried lister export and verify share.

``next_page_url`` is followed as a path against the client's own base URL (see
:meth:`~bulkops.twilio.client.TwilioClient.list_page`), so a body can never send the
credentials to another host, and a page that names itself as next stops the run
instead of looping.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Protocol

from ..errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    RunAborted,
    TransportError,
    UsageError,
)
from ..retry import Backoff
from .wire import Resource

#: The largest ``PageSize`` Twilio's spec allows on a list call.
MAX_PAGE_SIZE = 1000
#: How the lister waits between attempts: ``asyncio.sleep`` or a test's fake, in seconds.
Sleep = Callable[[float], Awaitable[object]]


class ServiceNotFound(UsageError):
    """Listing a service answered 404: the account has no such Messaging Service."""

    def __init__(self, service_sid: str) -> None:
        self.service_sid = service_sid
        super().__init__(
            f"service {service_sid} not found (HTTP 404): check the SID, and that "
            "TWILIO_ACCOUNT_SID and the base URL or region are the service's"
        )


class PageApi(Protocol):
    """The two list calls a :class:`ServiceLister` makes; :class:`TwilioClient` is one."""

    def first_page_url(self, service_sid: str, *, page_size: int = 1000) -> str:
        """The path of the service's first list page."""
        ...

    async def list_page(self, url: str) -> tuple[list[Resource], str | None]:
        """One page at path ``url``: its items and the next page's path (None on the last)."""
        ...


class ServiceLister:
    """Lists the senders of one service at a time, page by page, retrying transient failures."""

    def __init__(
        self,
        api: PageApi,
        *,
        page_size: int = MAX_PAGE_SIZE,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """List through ``api``, ``page_size`` items a page (1 to 1000, else UsageError).

        Transient failures are retried per ``backoff``, waiting with ``sleep`` for
        the seconds it gives; ``rand`` is its uniform draw in [0, 1).
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise UsageError(f"page size must be 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
        self._api = api
        self._page_size = page_size
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rand = rand
        #: List calls answered 2xx so far (retried attempts not counted).
        self.pages = 0

    async def pages_of(self, service_sid: str) -> AsyncGenerator[list[Resource], None]:
        """Yield each page of the service's senders, in the API's order.

        Raises :class:`ServiceNotFound` on 404 and :class:`RunAborted` at once when the
        API cannot be reached (DNS, refused, TLS, proxy), or on any other final failure
        (401, another 4xx, or transient failures past ``max_attempts``).
        """
        url: str | None = self._api.first_page_url(service_sid, page_size=self._page_size)
        while url is not None:
            items, next_url = await self._page(service_sid, url)
            self.pages += 1
            yield items
            if next_url == url:
                raise RunAborted(f"listing {service_sid}: next_page_url repeats the page")
            url = next_url

    async def _page(self, service_sid: str, url: str) -> tuple[list[Resource], str | None]:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._api.list_page(url)
            except AuthenticationError as exc:
                raise RunAborted.bad_credentials(exc.code) from None
            except PermanentError as exc:
                if exc.status == 404:
                    raise ServiceNotFound(service_sid) from None
                raise RunAborted(f"listing {service_sid} was refused: {exc}") from None
            except ApiError as exc:
                if isinstance(exc, TransportError) and exc.cause.unreachable:
                    raise RunAborted(
                        f"listing {service_sid}: cannot reach the API: {exc}"
                    ) from None
                if not self._backoff.should_retry(attempt, exc):
                    raise RunAborted(
                        f"listing {service_sid} failed after {attempt} attempts: {exc}"
                    ) from None
                wait_s = self._backoff.delay_s(
                    attempt, rand=self._rand(), retry_after_s=exc.retry_after_s
                )
                await self._sleep(wait_s)
