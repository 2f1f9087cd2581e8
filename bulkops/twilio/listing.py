"""Paged, retried listing: a service's senders of one kind, and the account's numbers.

:class:`ServiceLister` lists what export and verify read (one paged list per
service and kind); :class:`AccountLister` lists the account's phone numbers and
short codes (the 2010 API) for :func:`bulkops.resolve.resolve_numbers`. The next
page is followed as a path against the client's own base URLs (see
:meth:`~bulkops.twilio.client.TwilioClient.list_page`), so a body can never send
the credentials to another host, and a page that names itself as next stops the
run instead of looping.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, Protocol

from ..errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    RunAborted,
    TransportError,
    UsageError,
)
from ..model import AccountListing, SenderKind
from ..retry import Backoff
from .wire import SERVICES, Listed, Resource, account_list_path, list_path, services_path

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
    """The list call a lister makes; :class:`~bulkops.twilio.client.TwilioClient` is one."""

    async def list_page(
        self, url: str, listed: Listed | None = None
    ) -> tuple[list[Resource], str | None]:
        """One page at path ``url``: its items and the next page's path (None on the last)."""
        ...


class Pager:
    """Lists page by page, retrying transient failures; counts the pages it read."""

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
        self.page_size = page_size
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rand = rand
        #: List calls answered 2xx so far (retried attempts not counted).
        self.pages = 0

    async def pages_at(
        self, url: str | None, listed: Listed, *, what: str, not_found: Exception
    ) -> AsyncGenerator[list[Resource], None]:
        """Yield each page from path ``url`` on, in the API's order; ``what`` names it in errors.

        Raises ``not_found`` on 404 and :class:`RunAborted` at once when the API
        cannot be reached (DNS, refused, TLS, proxy), or on any other final failure
        (401, another 4xx, or transient failures past ``max_attempts``).
        """
        while url is not None:
            items, next_url = await self._page(url, listed, what, not_found)
            self.pages += 1
            yield items
            if next_url == url:
                raise RunAborted(f"listing {what}: the next page repeats the page")
            url = next_url

    async def _page(
        self, url: str, listed: Listed, what: str, not_found: Exception
    ) -> tuple[list[Resource], str | None]:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._api.list_page(url, listed)
            except AuthenticationError as exc:
                raise RunAborted.bad_credentials(exc.code) from None
            except PermanentError as exc:
                if exc.status == 404:
                    raise not_found from None
                raise RunAborted(f"listing {what} was refused: {exc}") from None
            except ApiError as exc:
                if isinstance(exc, TransportError) and exc.cause.unreachable:
                    raise RunAborted(f"listing {what}: cannot reach the API: {_why(exc)}") from None
                if not self._backoff.should_retry(attempt, exc):
                    raise RunAborted(
                        f"listing {what} failed after {attempt} attempts: {_why(exc)}"
                    ) from None
                wait_s = self._backoff.delay_s(
                    attempt, rand=self._rand(), retry_after_s=exc.retry_after_s
                )
                await self._sleep(wait_s)


class ServiceLister(Pager):
    """Lists the senders of one service and kind at a time (Messaging v1, paged)."""

    def pages_of(
        self, service_sid: str, kind: SenderKind = SenderKind.SHORT_CODE
    ) -> AsyncGenerator[list[Resource], None]:
        """Yield each page of the service's senders of ``kind``, in the API's order.

        Raises :class:`ServiceNotFound` on 404 and :class:`RunAborted` when the API
        cannot be reached or on any other final failure (see :meth:`Pager.pages_at`).
        """
        first = list_path(kind, service_sid, self.page_size)
        what = f"{service_sid} {kind.collection}"
        return self.pages_at(first, kind, what=what, not_found=ServiceNotFound(service_sid))

    def services(self) -> AsyncGenerator[list[str], None]:
        """Yield each page of the account's Messaging Service SIDs (``GET /v1/Services``).

        Raises :class:`RunAborted` when the list fails for good, a 404 included
        (no Messaging API at that base URL).
        """
        missing = RunAborted(
            "listing the account's Messaging Services answered 404: check the base URL or region"
        )
        pages = self.pages_at(
            services_path(self.page_size), SERVICES, what="Messaging Services", not_found=missing
        )
        return _sids(pages)


class AccountLister(Pager):
    """Lists the account's numbers of a kind (the 2010 API), as :mod:`bulkops.resolve` asks.

    ``account_sid`` is the account whose numbers are listed (``AC…``, the one the
    credentials belong to).
    """

    def __init__(self, api: PageApi, account_sid: str, **options: Any) -> None:
        super().__init__(api, **options)
        self._account_sid = account_sid

    def numbers(
        self, listing: AccountListing, number: str | None = None
    ) -> AsyncGenerator[list[tuple[str, str]], None]:
        """Yield each page as ``(number, SID)`` pairs; only those matching ``number`` if given.

        With ``number``, one filtered GET (Twilio's filter may match more than
        the exact number). Raises :class:`RunAborted` when the listing fails for
        good, a 404 included (no such account at that base URL), and at once when
        the API cannot be reached.
        """
        first = account_list_path(
            listing, self._account_sid, page_size=self.page_size, number=number
        )
        missing = RunAborted(
            f"account {self._account_sid} has no {listing.list_key} listing (HTTP 404): check "
            "TWILIO_ACCOUNT_SID and the base URL or region"
        )
        what = f"the account's {listing.list_key}"
        return _pairs(self.pages_at(first, listing, what=what, not_found=missing), listing)


def _why(exc: ApiError) -> str:
    """What went wrong, in words: a network failure has no HTTP status or code to show."""
    return exc.message if isinstance(exc, TransportError) else str(exc)


async def _pairs(
    pages: AsyncGenerator[list[Resource], None], listing: AccountListing
) -> AsyncGenerator[list[tuple[str, str]], None]:
    async with aclosing(pages):
        async for page in pages:
            yield [
                (str(item.get(listing.number_field) or ""), str(item.get("sid") or ""))
                for item in page
            ]


async def _sids(pages: AsyncGenerator[list[Resource], None]) -> AsyncGenerator[list[str], None]:
    async with aclosing(pages):
        async for page in pages:
            yield [str(item.get("sid") or "") for item in page]
