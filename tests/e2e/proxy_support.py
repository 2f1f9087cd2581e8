"""A forwarding proxy on loopback, as a corporate one: ``CONNECT host:port`` tunnels only.

It knows a few names (``routes``: name → a loopback port) and resolves them
itself, so the client cannot reach those hosts without it, as behind a proxy
that is the only way out. Any other ``CONNECT`` is refused with 403, like a
proxy whose policy does not allow the host. Every ``CONNECT`` line is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType


class ConnectProxy:
    """``async with ConnectProxy(routes) as proxy:`` serves on ``proxy.url``."""

    def __init__(self, routes: dict[str, int]) -> None:
        self.routes = routes
        #: The ``host:port`` of every CONNECT asked, in order.
        self.connects: list[str] = []
        #: The header lines of every CONNECT (all a proxy ever sees in clear).
        self.connect_headers: list[str] = []
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the proxy speaks plain HTTP; TLS runs in the tunnel."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> ConnectProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            await self._tunnel(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._pipes.discard(task)
            writer.close()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        first, _, rest = head.partition("\r\n")
        method, target, _ = first.split(" ", 2)
        self.connect_headers += [line for line in rest.split("\r\n") if line]
        host, _, _ = target.rpartition(":")
        if method != "CONNECT" or host not in self.routes:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        self.connects.append(target)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.routes[host])
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    with contextlib.suppress(OSError):
        sink.write_eof()
