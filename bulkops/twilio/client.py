"""The HTTP client: one aiohttp session, one way to send a :class:`Request`.

Every non-success answer becomes a typed :mod:`bulkops.errors` exception
(see :mod:`bulkops.twilio.answers`) carrying status, Twilio code, message and
Retry-After; replies and errors carry the account's requests in flight from the
``Twilio-Concurrent-Requests`` header. Messages name the method and path only:
never the URL's query, a header or a credential.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import aiohttp

from .._version import __version__
from ..config import Credentials, RunConfig
from ..errors import TransportError
from ..model import Op, SenderKind
from .answers import error_for, parse_in_flight, read_page, reply_for, reply_unread
from .wire import CONCURRENCY_HEADER, Reply, Request, Resource, build_request, list_path

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class TwilioClient:
    """Sends requests to one Twilio API base URL over one session; lists senders of ``kind``.

    :meth:`send` is the one request path; :meth:`attach`, :meth:`detach` and
    :meth:`fetch` are conveniences over it.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        kind: SenderKind = SenderKind.SHORT_CODE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Use ``session`` (its headers carry the credentials) to ask ``base_url``.

        ``kind`` picks the sender collection of the conveniences and the list calls;
        ``now`` is the clock a ``Retry-After`` date is counted from.
        """
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

    async def send(self, request: Request, *, read_body: bool = True) -> Reply:
        """Make one request; a 2xx is a :class:`Reply`, anything else a typed error.

        With ``read_body=False`` a 2xx's body is only checked to be JSON, not
        parsed, and the reply's ``body`` is None (see
        :func:`~bulkops.twilio.answers.reply_unread`).

        ``request.path`` must start with ``/``: it is asked of this client's own base
        URL only (ValueError otherwise), since the session sends credentials with
        every request. Redirects are not followed. Raises
        :class:`~bulkops.errors.TransportError` when no answer came (connection
        failed, timed out) and the errors of :func:`~bulkops.twilio.answers.error_for`
        and :func:`~bulkops.twilio.answers.reply_for` for answers.
        """
        if not request.path.startswith("/"):
            raise ValueError(
                f"the client only asks its own base URL; got {request.path.split('?')[0]!r}"
            )
        # An already encoded body: handing aiohttp a dict makes it build a FormData
        # writer per request, a tenth of the client's CPU.
        form = request.encoded_form
        try:
            async with self._session.request(
                request.method,
                self._base + request.path,
                data=form,
                headers=_FORM if form is not None else None,
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                status = response.status
                headers = response.headers
                in_flight = parse_in_flight(headers.get(CONCURRENCY_HEADER))
        except TimeoutError:
            raise TransportError(f"{request.target}: timed out") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{request.target}: {type(exc).__name__}") from None
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

    async def attach(self, service_sid: str, sender_sid: str) -> Reply:
        """Convenience: ``send(build_request(Op.ATTACH, kind, …))``, the create ``POST``."""
        return await self.send(build_request(Op.ATTACH, self._kind, service_sid, sender_sid))

    async def detach(self, service_sid: str, sender_sid: str) -> Reply:
        """Convenience: ``send(build_request(Op.DETACH, kind, …))``, the ``DELETE``."""
        return await self.send(build_request(Op.DETACH, self._kind, service_sid, sender_sid))

    async def fetch(self, service_sid: str, sender_sid: str) -> Reply:
        """Convenience: ``send(build_request(Op.FETCH, kind, …))``, the ``GET`` of one sender."""
        return await self.send(build_request(Op.FETCH, self._kind, service_sid, sender_sid))

    def first_page_url(self, service_sid: str, *, page_size: int = 1000) -> str:
        """The path of the first list page of the service's senders (see :func:`list_path`)."""
        return list_path(self._kind, service_sid, page_size)

    async def list_page(self, url: str) -> tuple[list[Resource], str | None]:
        """One page of a list at path ``url``: its items and the next page's path, or None.

        See :func:`~bulkops.twilio.answers.read_page`: the next page is given as a
        path, so it is asked of this client's own host, whatever the body named.
        """
        request = Request("GET", url)
        return read_page(await self.send(request), self._kind, target=request.target)


__all__ = ["TwilioClient"]
