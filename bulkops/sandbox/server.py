"""Run the sandbox on a loopback port: an async context manager, or a thread for sync code.

::

    async with Sandbox(world=world, load=LoadProfile(max_in_flight=20), port=0) as sb:
        ...  # talk to sb.base_url with sb.account_sid / sb.auth_token

The sandbox binds only to loopback addresses; any other host is refused.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from ..config import Credentials, is_loopback_host
from ..errors import UsageError
from .app import build_app
from .context import GATE
from .profile import LoadProfile
from .stats import Stats
from .world import World


class Sandbox:
    """The fake Twilio API, serving on ``host:port`` inside ``async with``."""

    def __init__(  # noqa: PLR0913 - keyword-only; each is an independent choice
        self,
        *,
        world: World | None = None,
        load: LoadProfile | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout_s: float = 5.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """Serve ``world`` under ``load`` on loopback ``host:port`` (0: any free port).

        ``tls`` (a server context with its certificate loaded) serves HTTPS instead
        of plain HTTP. Raises :class:`UsageError` for a host that is not loopback.
        """
        if not is_loopback_host(host):
            raise UsageError(
                f"the sandbox serves only on loopback (127.0.0.1, ::1, localhost), not {host!r}"
            )
        if not 0 <= port <= 65535:
            raise UsageError(f"port must be 0 to 65535, got {port!r}")
        self.world = world if world is not None else World()
        self.load = load or LoadProfile()
        self.host = host
        self.port = port
        self.stats = Stats()
        self.tls = tls
        self._shutdown_timeout_s = shutdown_timeout_s
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` with TLS; IPv6 hosts in brackets), once bound."""
        host = self.host.strip("[]")
        scheme = "https" if self.tls is not None else "http"
        return (
            f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"
        )

    @property
    def account_sid(self) -> str:
        """The account SID clients authenticate with."""
        return self.world.account_sid

    @property
    def auth_token(self) -> str:
        """The auth token clients authenticate with."""
        return self.world.auth_token

    def credentials(self) -> Credentials:
        """The account SID and auth token, as bulkops takes them."""
        return Credentials(self.account_sid, self.auth_token, self.account_sid)

    def env(self) -> dict[str, str]:
        """Environment variables that point bulkops (or a helper library) here."""
        return {
            "BULKOPS_BASE_URL": self.base_url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
        }

    async def start(self) -> None:
        """Bind and serve; raises OSError if the port cannot be bound."""
        app = self._app = build_app(self.world, load=self.load, stats=self.stats)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=self._shutdown_timeout_s
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host.strip("[]"), self.port, ssl_context=self.tls)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def held_writes_applied(self) -> None:
        """Wait until every write held by ``hold_writes_s`` so far has been applied.

        Raises RuntimeError before :meth:`start`.
        """
        if self._app is None:
            raise RuntimeError("the sandbox is not started")
        await self._app[GATE].held_writes_applied()

    async def stop(self) -> None:
        """Stop serving; stalled requests are dropped, others get up to the shutdown timeout."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class SandboxThread:
    """The sandbox on its own event loop in a background thread, for synchronous clients.

    ``with SandboxThread(world=w) as sb:`` takes the same keyword arguments as
    :class:`Sandbox` and exposes ``base_url``, ``account_sid``, ``auth_token``,
    ``world`` and ``stats``. The world belongs to the sandbox's thread: read it
    while no requests are running, or after the ``with`` block.
    """

    def __init__(self, **sandbox_kwargs: Any) -> None:
        self.sandbox = Sandbox(**sandbox_kwargs)
        self._thread = threading.Thread(target=self._run, name="bulkops-sandbox", daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """See :attr:`Sandbox.base_url`."""
        return self.sandbox.base_url

    @property
    def account_sid(self) -> str:
        """See :attr:`Sandbox.account_sid`."""
        return self.sandbox.account_sid

    @property
    def auth_token(self) -> str:
        """See :attr:`Sandbox.auth_token`."""
        return self.sandbox.auth_token

    @property
    def world(self) -> World:
        """The sandbox's world (owned by its thread while it serves)."""
        return self.sandbox.world

    @property
    def stats(self) -> Stats:
        """The sandbox's counters (owned by its thread while it serves)."""
        return self.sandbox.stats

    def env(self) -> dict[str, str]:
        """See :meth:`Sandbox.env`."""
        return self.sandbox.env()

    def _run(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self.sandbox.start()
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await self.sandbox.stop()

        asyncio.run(serve())

    def __enter__(self) -> SandboxThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
