"""What ``export`` and ``verify`` share: how to reach the API, list services and retry.

Both take the same flags (:func:`add_connection_arguments`: where, how long, how
often, through which proxy and trusting which CA bundle), read them
back as one :class:`Connection` (:func:`connection_from_args`), and list
services and the account's numbers through :meth:`Connection.listers`. The
credentials always come from the ``TWILIO_*`` environment, never from a flag.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from ..config import MAX_ATTEMPTS, Credentials, positive_arg, resolve_base_url
from ..egress import Egress, resolve_egress
from ..retry import Backoff
from ..twilio import MAX_PAGE_SIZE, ServiceLister, TwilioClient
from ..twilio.listing import AccountLister, Sleep


@dataclass(frozen=True, slots=True)
class Listers:
    """The two listers of one client: a service's senders, and the account's numbers."""

    services: ServiceLister
    account: AccountLister

    @property
    def pages(self) -> int:
        """List calls that succeeded, of both."""
        return self.services.pages + self.account.pages


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """Where to list services, and how patiently.

    ``timeout_s`` bounds each request, in seconds. A list call that fails
    transiently is retried as ``backoff`` says, waiting with ``sleep`` the seconds
    it draws from ``rand`` (uniform in [0, 1)); tests inject both. Pages hold
    ``page_size`` items, 1 to 1000. ``egress`` is the proxy and CA bundle of the
    calls to both APIs.
    """

    #: The Messaging API's; the 2010 API is asked where
    #: :func:`~bulkops.config.api_base_for` pairs with it.
    base_url: str
    credentials: Credentials
    timeout_s: float = 30.0
    backoff: Backoff = field(default_factory=Backoff)
    page_size: int = MAX_PAGE_SIZE
    sleep: Sleep = asyncio.sleep
    rand: Callable[[], float] = random.random
    #: The proxy and the extra CA bundle (see :mod:`bulkops.egress`).
    egress: Egress = field(default_factory=Egress)

    @asynccontextmanager
    async def listers(self, *, pool_size: int = 1) -> AsyncIterator[Listers]:
        """A :class:`ServiceLister` and an :class:`AccountLister` on a client of their own.

        ``pool_size`` is how many connections the client keeps open: as many as
        services listed at once. The client is closed on exit. Raises
        :class:`~bulkops.errors.UsageError` for a page size outside 1 to 1000.
        """
        async with TwilioClient.open(
            base_url=self.base_url,
            credentials=self.credentials,
            pool_size=pool_size,
            timeout_s=self.timeout_s,
            egress=self.egress,
        ) as client:
            services = ServiceLister(
                client,
                page_size=self.page_size,
                backoff=self.backoff,
                sleep=self.sleep,
                rand=self.rand,
            )
            account = AccountLister(
                client,
                self.credentials.account_sid,
                page_size=self.page_size,
                backoff=self.backoff,
                sleep=self.sleep,
                rand=self.rand,
            )
            yield Listers(services, account)


def add_egress_arguments(parser: argparse.ArgumentParser) -> None:
    """``--proxy URL`` and ``--ca-bundle FILE`` (see :mod:`bulkops.egress`)."""
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help="http(s):// proxy for the API (default: HTTPS_PROXY, unless NO_PROXY says not)",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="PEM CA certificates to trust besides the system's "
        "(default: REQUESTS_CA_BUNDLE or SSL_CERT_FILE)",
    )


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--base-url``, ``--timeout`` (seconds, above 0), ``--max-attempts`` (1 to 100),
    ``--proxy`` and ``--ca-bundle``."""
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (default https://messaging.twilio.com; env BULKOPS_BASE_URL)",
    )
    add_egress_arguments(parser)
    parser.add_argument(
        "--timeout",
        type=positive_arg(float),
        default=30.0,
        metavar="S",
        help="seconds per request (default 30)",
    )
    parser.add_argument(
        "--max-attempts",
        type=positive_arg(int, at_most=MAX_ATTEMPTS),
        default=6,
        metavar="N",
        help=f"tries per list call for transient failures (default 6, at most {MAX_ATTEMPTS})",
    )


def connection_from_args(args: argparse.Namespace) -> Connection:
    """The :class:`Connection` the flags and the environment describe.

    Raises :class:`~bulkops.errors.UsageError` when the ``TWILIO_*`` credentials
    are missing or incomplete, or the base URL is unsafe (see
    :func:`~bulkops.config.resolve_base_url`).
    """
    credentials = Credentials.from_env()
    base_url = resolve_base_url(args.base_url)
    return Connection(
        base_url=base_url,
        credentials=credentials,
        timeout_s=args.timeout,
        backoff=Backoff(max_attempts=args.max_attempts),
        egress=resolve_egress(base_url, proxy=args.proxy, ca_bundle=args.ca_bundle),
    )


__all__ = ["Connection", "Listers", "add_connection_arguments", "connection_from_args"]
