"""The seams the engine meets the rest at: Protocols for what it calls, a clock it is given.

The Twilio client satisfies :class:`SenderApi`, the result journal
:class:`Journal`, a progress display :class:`Observer`; tests pass fakes.
:class:`EngineHooks` holds how a run is watched and timed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from structlog.typing import FilteringBoundLogger

from ..model import ItemResult
from ..twilio.wire import Reply, Request


class SenderApi(Protocol):
    """Sends one request; :class:`~bulkops.twilio.client.TwilioClient` is one.

    Returns the answer of a 2xx, its ``body`` parsed only when ``read_body``
    (else None); raises :class:`~bulkops.errors.ApiError` subclasses for
    anything else (transient ones are retried by the engine).
    """

    async def send(self, request: Request, *, read_body: bool = True) -> Reply: ...


class Journal(Protocol):
    """Where final results go; :class:`~bulkops.journal.ResultJournal` is one."""

    def record(self, result: ItemResult, *, replaces: ItemResult | None = None) -> None:
        """Write ``result``; ``replaces`` is this run's earlier record of the same row, if any."""
        ...

    def sync_if_due(self) -> None: ...


class Observer(Protocol):
    """Told how many rows a run has to do, each final result, each move of the
    concurrency limit and of the account's figures (e.g. a progress display).

    ``on_account`` gets the account's requests in flight as Twilio's latest answer
    counted them and its limit as learnt from 429s, each None until known.
    """

    def on_start(self, rows: int) -> None: ...
    def on_result(self, result: ItemResult) -> None: ...
    def on_limit(self, limit: int) -> None: ...
    def on_account(self, in_flight: int | None, limit: int | None) -> None: ...


class NoObserver:
    """An :class:`Observer` that does nothing."""

    def on_start(self, rows: int) -> None:
        """Ignore the count."""

    def on_result(self, result: ItemResult) -> None:
        """Ignore the result."""

    def on_limit(self, limit: int) -> None:
        """Ignore the limit."""

    def on_account(self, in_flight: int | None, limit: int | None) -> None:
        """Ignore the account's figures."""


@dataclass(frozen=True, slots=True)
class EngineClock:
    """Time as the engine sees it; tests replace it so nothing waits for real.

    ``monotonic`` (seconds) defaults to the running loop's clock, the one
    ``sleep`` waits on; ``rand`` is uniform in [0, 1) for backoff jitter;
    ``timestamp`` stamps records (default: UTC wall clock, see
    :class:`~bulkops.engine.records.UtcClock`).
    """

    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    monotonic: Callable[[], float] | None = None
    rand: Callable[[], float] = random.random
    timestamp: Callable[[], str] | None = None


@dataclass(frozen=True, slots=True)
class EngineHooks:
    """How the engine's run is watched and timed: its log, its observer, its clock."""

    #: Where the engine's events go (``bulkops.item.retry``, ``bulkops.throttle.*``, ...).
    log: FilteringBoundLogger
    #: Told each final result, each move of the concurrency limit and the account's figures.
    observer: Observer = field(default_factory=NoObserver)
    clock: EngineClock = EngineClock()
