"""The HTTP client: one aiohttp session, one way to send a :class:`Request`.

Every non-success answer becomes a typed :mod:`bulkops.errors` exception
(see :mod:`bulkops.twilio.answers`) carrying status, Twilio code, message and
Retry-After; replies and errors carry the account's requests in flight from the
``Twilio-Concurrent-Requests`` header; no answer at all becomes a
:class:`~bulkops.errors.TransportError` with its network cause
(:mod:`bulkops.twilio.network`). Messages name the method and path only: never
the URL's query, a header or a credential. Calls go through the run's proxy and
trust its CA bundle (:class:`~bulkops.egress.Egress`), to both APIs' hosts alike.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp

from .._version import __version__
from ..config import Credentials, RunConfig, api_base_for
from ..egress import Egress
from ..model import SenderKind
from .answers import error_for, parse_in_flight, reply_for, reply_unread
from .deadlines import CallDeadlines
from .network import connect_timeout_s, ssl_context, transport_error
from .wire import (
    API_2010_PREFIX,
    CONCURRENCY_HEADER,
    Listed,
    Reply,
    Request,
    Resource,
    list_path,
    read_page,
)

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class TwilioClient:
    """Sends requests to Twilio's APIs over one session; lists senders of ``kind``.

    :meth:`send` is the one request path; build what it sends with
    :func:`~bulkops.twilio.wire.build_request`. Paths of the 2010 API
    (``/2010-04-01/…``) go to ``api_base_url``, every other path to ``base_url``.
    """

    def __init__(  # noqa: PLR0913 - the session and base URL, then keyword-only choices
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        api_base_url: str | None = None,
        kind: SenderKind = SenderKind.SHORT_CODE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        egress: Egress | None = None,
        authorization: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        """Use ``session`` to ask ``base_url``; ``authorization`` is the header value
        every request carries (None: the session's own headers say it).

        ``timeout_s`` is how long a call may take, connecting, sending and reading
        its answer (:mod:`.deadlines`; None: only the session's own timeouts apply).

        ``api_base_url`` is the 2010 API's (default: :func:`~bulkops.config.api_base_for`
        of ``base_url``: ``https://api.twilio.com`` for Twilio's Messaging host, else
        ``base_url`` itself); ``kind`` picks the sender collection of the list
        calls; ``now`` is the clock a ``Retry-After`` date is counted from;
        ``egress`` says which proxy each host's requests go through (None: direct;
        its CA bundle is the session's, see :meth:`open`).
        """
        egress = egress or Egress()
        # The credentials go on each request, never in the session's default headers:
        # aiohttp copies those into a proxy's CONNECT, handing the token to the proxy.
        auth = {"Authorization": authorization} if authorization else {}
        self._headers = auth or None
        self._form_headers = {**auth, **_FORM}
        self._session = session
        self._base = base_url.rstrip("/")
        self._api_base = (api_base_url or api_base_for(self._base)).rstrip("/")
        self._proxy = egress.proxy_to(urlsplit(self._base).hostname or "")
        self._api_proxy = egress.proxy_to(urlsplit(self._api_base).hostname or "")
        self._kind = kind
        self._now = now
        self._deadlines = CallDeadlines(timeout_s)
        parts = urlsplit(self._base)
        #: ``host:port`` of the Messaging API, as messages name it.
        self.host = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"

    @classmethod
    @asynccontextmanager
    async def open(  # noqa: PLR0913 - keyword-only; each is an independent choice
        cls,
        *,
        base_url: str,
        credentials: Credentials,
        pool_size: int,
        timeout_s: float,
        api_base_url: str | None = None,
        egress: Egress | None = None,
    ) -> AsyncIterator[TwilioClient]:
        """A client with its own session: keep-alive pool of ``pool_size``, TLS verified.

        Each call may take ``timeout_s``; making a connection, less
        (:func:`~bulkops.twilio.network.connect_timeout_s`), so one that never
        comes is known as never sent.

        ``api_base_url`` is the 2010 API's, as for the constructor. ``egress`` gives
        the proxy and the CA bundle trusted besides the operating system's store
        (see :mod:`bulkops.egress`); the environment is not read here.
        """
        egress = egress or Egress()
        connector = aiohttp.TCPConnector(
            limit=pool_size, limit_per_host=pool_size, ssl=ssl_context(egress)
        )
        basic = base64.b64encode(f"{credentials.username}:{credentials.password}".encode())
        # The call's own timeout is kept by the client (one timer for every call,
        # see .deadlines); aiohttp keeps the connect's, so a call that never
        # connected is known as never sent.
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s(timeout_s)),
            headers={"User-Agent": f"bulkops/{__version__}", "Accept": "application/json"},
            raise_for_status=False,
        ) as session:
            client = cls(
                session,
                base_url,
                api_base_url=api_base_url,
                egress=egress,
                authorization="Basic " + basic.decode("ascii"),
                timeout_s=timeout_s,
            )
            try:
                yield client
            finally:
                client._deadlines.close()

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
            api_base_url=config.api_url,
            egress=config.egress,
        )

    async def send(self, request: Request, *, read_body: bool = True) -> Reply:
        """Make one request; a 2xx is a :class:`Reply`, anything else a typed error.

        With ``read_body=False`` a 2xx's body is only checked to be JSON, not
        parsed, and the reply's ``body`` is None (see
        :func:`~bulkops.twilio.answers.reply_unread`).

        ``request.path`` must start with ``/``: it is asked of this client's own base
        URLs only (ValueError otherwise), since the session sends credentials with
        every request. Redirects are not followed. Raises
        :class:`~bulkops.errors.TransportError` when no answer came (its cause: see
        :func:`~bulkops.twilio.network.transport_error`) and the errors of
        :func:`~bulkops.twilio.answers.error_for` and
        :func:`~bulkops.twilio.answers.reply_for` for answers.
        """
        if not request.path.startswith("/"):
            raise ValueError(
                f"the client only asks its own base URL; got {request.path.split('?')[0]!r}"
            )
        # An already encoded body: handing aiohttp a dict makes it build a FormData
        # writer per request, a tenth of the client's CPU.
        form = request.encoded_form
        api_2010 = request.path.startswith(API_2010_PREFIX)
        deadline = self._deadlines.start()
        try:
            async with self._session.request(
                request.method,
                (self._api_base if api_2010 else self._base) + request.path,
                data=form,
                headers=self._form_headers if form is not None else self._headers,
                allow_redirects=False,
                proxy=self._api_proxy if api_2010 else self._proxy,
            ) as response:
                raw = await response.read()
                status = response.status
                headers = response.headers
                in_flight = parse_in_flight(headers.get(CONCURRENCY_HEADER))
        except (TimeoutError, aiohttp.ClientError) as exc:
            write = request.method != "GET"
            raise transport_error(exc, target=request.target, write=write) from None
        except asyncio.CancelledError:
            if not deadline.passed():
                raise  # the run is stopping, not this call's time up
            write = request.method != "GET"
            raise transport_error(TimeoutError(), target=request.target, write=write) from None
        finally:
            deadline.end()
        if 200 <= status < 300:
            answer = reply_for if read_body else reply_unread
            return answer(status, raw, target=request.target, account_in_flight=in_flight)
        raise error_for(
            status,
            raw,
            retry_after=headers.get("Retry-After"),
            target=request.target,
            now=self._now(),
            account_in_flight=in_flight,
        )

    def first_page_url(
        self, service_sid: str, *, page_size: int = 1000, kind: SenderKind | None = None
    ) -> str:
        """The path of the first list page of the service's senders of ``kind`` (default: the
        client's; see :func:`list_path`)."""
        return list_path(kind or self._kind, service_sid, page_size)

    async def list_page(
        self, url: str, listed: Listed | None = None
    ) -> tuple[list[Resource], str | None]:
        """One page of a list at path ``url``: its items and the next page's path, or None.

        ``listed`` says where the items are (a :class:`~bulkops.model.SenderKind` or an
        :class:`~bulkops.model.AccountListing`; default: the client's kind). See
        :func:`~bulkops.twilio.wire.read_page`: the next page is given as a path, so
        it is asked of this client's own hosts, whatever the body named.
        """
        request = Request("GET", url)
        return read_page(await self.send(request), listed or self._kind, target=request.target)


__all__ = ["TwilioClient"]
