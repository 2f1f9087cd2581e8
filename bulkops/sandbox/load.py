"""Load behaviour: throttling, latency and injected faults, all off by default.

One middleware wraps every request outside ``/sandbox/``, in this order:

1. count the arrival (:class:`~bulkops.sandbox.stats.Stats`);
2. refuse with 429/20429 at once if the account is at ``max_in_flight``
   requests being served (other traffic included: ``background_in_flight`` or
   the ``background_schedule``) or ``max_per_second`` requests admitted in the
   last second (sliding window), with ``Retry-After`` only if ``retry_after_s`` is set;
3. draw a fault (500, 503, drop, stall) with the seeded random generator;
4. wait the latency (``latency_mean_ms`` ± uniform ``latency_jitter_ms``);
5. act on the fault, or hand the request to the API.

Every answer (429s and errors too; not a dropped connection) carries
``Twilio-Concurrent-Requests``: the account's requests in flight when the request
arrived, other traffic included, itself included if admitted (so on a 429 it is
the count that left no room). The schedule's clock starts at the first API
request after start or :meth:`LoadGate.restart_schedule`.

Steps 2–5 happen before any handler runs, so a throttled, failed or dropped
request has changed nothing in the world and is always safe to retry. A stalled
request is held ``stall_s`` and then handled normally, like a real timeout:
the client gave up but cannot know whether the change happened. With
``hold_writes_s``, every write (POST, DELETE) is held that long and then applied,
in a task of its own, so it lands even after the client gave up and closed the
connection. When the sandbox shuts down, stalled and held requests are dropped
unhandled.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import problems
from .profile import CONCURRENCY_HEADER, LoadProfile
from .stats import OTHER_ROUTE, Fault, Stats

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_of(request: web.Request) -> str:
    """``METHOD /path/{Template}`` of the route the request matched, or ``other``."""
    resource = request.match_info.route.resource
    return OTHER_ROUTE if resource is None else f"{request.method} {resource.canonical}"


class LoadGate:
    """The middleware that applies a :class:`LoadProfile` and records :class:`Stats`.

    ``clock`` times the per-second window and ``sleep`` waits the latency; tests
    pass fakes.
    """

    def __init__(
        self,
        profile: LoadProfile,
        stats: Stats,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.profile = profile
        self.stats = stats
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(profile.seed)
        self._in_flight = 0
        self._admitted: deque[float] = deque()
        self._header = profile.concurrency_header
        self._schedule_times = [t_s for t_s, _ in profile.background_schedule]
        self._schedule_counts = [n for _, n in profile.background_schedule]
        self._schedule_start: float | None = None
        self._closing = asyncio.Event()
        self._retry_after = (
            None if profile.retry_after_s is None else {"Retry-After": str(profile.retry_after_s)}
        )
        cumulative, faults = 0.0, []
        for fault, p in profile.fault_probabilities.items():
            if p > 0:
                cumulative += p
                faults.append((cumulative, fault))
        self._faults = tuple(faults)
        self._latency = profile.latency_mean_ms > 0 or profile.latency_jitter_ms > 0
        #: Held writes, each in a task of its own, until they are applied.
        self._held: set[asyncio.Task[web.StreamResponse | None]] = set()

    def close(self) -> None:
        """The sandbox is stopping: release stalled requests (they are dropped)."""
        self._closing.set()

    async def on_shutdown(self, _app: web.Application) -> None:
        """aiohttp ``on_shutdown`` hook: see :meth:`close`."""
        self.close()

    def restart_schedule(self) -> None:
        """Start the background schedule again at the next API request (a stats reset)."""
        self._schedule_start = None

    def background_in_flight(self) -> int:
        """Requests other traffic on the account has in flight now."""
        times = self._schedule_times
        if not times or self._schedule_start is None:
            return self.profile.background_in_flight
        step = bisect.bisect_right(times, self._clock() - self._schedule_start)
        return self._schedule_counts[step - 1] if step else self.profile.background_in_flight

    @property
    def account_in_flight(self) -> int:
        """The account's requests in flight: clients' being served plus other traffic."""
        return self._in_flight + self.background_in_flight()

    def admit(self) -> bool:
        """True if a request arriving now is under the limits (it then counts against them).

        The first request after start or :meth:`restart_schedule` starts the
        background schedule's clock.
        """
        profile = self.profile
        if self._schedule_start is None:
            self._schedule_start = self._clock()
        if profile.max_in_flight is not None and self.account_in_flight >= profile.max_in_flight:
            return False
        if profile.max_per_second is not None:
            now = self._clock()
            admitted = self._admitted
            horizon = now - 1.0
            while admitted and admitted[0] <= horizon:
                admitted.popleft()
            if len(admitted) >= profile.max_per_second:
                return False
            admitted.append(now)
        return True

    def _draw_fault(self) -> Fault | None:
        if not self._faults:
            return None
        draw = self._rng.random()
        for threshold, fault in self._faults:
            if draw < threshold:
                return fault
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count, throttle, delay or break the request, then serve it."""
        if request.path.startswith("/sandbox/"):
            return await handler(request)
        stats = self.stats
        second = stats.arrived(request.method, route_of(request))
        if not self.admit():
            return self._refuse(second)
        self._in_flight += 1
        stats.began()
        count = self.account_in_flight
        stats.level(second, count)
        status = 500
        try:
            response = await self._serve(request, handler)
            if response is None:  # dropped: aiohttp writes this to a closed transport
                status = 0
                return web.Response()
            status = response.status
            if self._header:
                response.headers[CONCURRENCY_HEADER] = str(count)
            return response
        except web.HTTPException as exc:
            status = exc.status
            if self._header:
                exc.headers[CONCURRENCY_HEADER] = str(count)
            raise
        except asyncio.CancelledError:
            status = 0
            raise
        finally:
            self._in_flight -= 1
            stats.ended()
            if status:
                stats.answered(status)

    def _refuse(self, second: int) -> web.Response:
        """The 429 of a request the account has no room for, counted."""
        stats = self.stats
        stats.throttle(second)
        stats.answered(429)
        count = self.account_in_flight
        stats.level(second, count)
        headers = dict(self._retry_after or {})
        if self._header:
            headers[CONCURRENCY_HEADER] = str(count)
        return problems.too_many_requests().response(headers=headers)

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse | None:
        """The response, or None if the connection was dropped."""
        fault = self._draw_fault()
        if self._latency:
            profile = self.profile
            jitter_ms = profile.latency_jitter_ms
            delay_ms = profile.latency_mean_ms
            if jitter_ms:
                delay_ms += self._rng.uniform(-jitter_ms, jitter_ms)
            if delay_ms > 0:
                await self._sleep(delay_ms / 1000)
        if fault is None and self.profile.hold_writes_s > 0 and request.method in _WRITES:
            return await self._hold(request, handler)
        if fault is None:
            return await handler(request)
        self.stats.fault(fault)
        if fault is Fault.ERROR_500:
            return problems.internal_error().response()
        if fault is Fault.ERROR_503:
            return problems.unavailable().response()
        if fault is Fault.STALL:
            await request.read()  # as a real server would: the body arrived before the stall
            try:
                await asyncio.wait_for(self._closing.wait(), timeout=self.profile.stall_s)
            except TimeoutError:
                return await handler(request)
        await _drop(request)
        return None

    async def _hold(self, request: web.Request, handler: Handler) -> web.StreamResponse | None:
        """Hold a write ``hold_writes_s``, then apply it, whether or not the client still waits."""
        await request.read()  # the body arrived before the hold, as with a real server

        async def apply_later() -> web.StreamResponse | None:
            try:
                await asyncio.wait_for(self._closing.wait(), timeout=self.profile.hold_writes_s)
            except TimeoutError:
                return await handler(request)
            return None  # shutting down: dropped unapplied

        task = asyncio.ensure_future(apply_later())
        self._held.add(task)
        task.add_done_callback(self._held.discard)
        return await asyncio.shield(task)

    async def held_writes_applied(self) -> None:
        """Wait until every write held so far has been applied (or dropped at shutdown)."""
        await asyncio.gather(*list(self._held), return_exceptions=True)


_WRITES = frozenset({"POST", "DELETE"})


async def _drop(request: web.Request) -> None:
    """Read the request, then close the connection so the client gets no answer at all."""
    await request.read()
    if request.transport is not None:
        request.transport.close()
