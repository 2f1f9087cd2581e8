"""Load behaviour: throttling, latency and injected faults, all off by default.

One middleware wraps every request outside ``/sandbox/``, in this order:

1. count the arrival (:class:`~bulkops.sandbox.stats.Stats`);
2. refuse with 429/20429 at once if the account is over ``max_in_flight``
   requests being served or ``max_per_second`` requests admitted in the last
   second (sliding window), with ``Retry-After`` only if ``retry_after_s`` is set;
3. draw a fault (500, 503, drop, stall) with the seeded random generator;
4. wait the latency (``latency_mean_ms`` ± uniform ``latency_jitter_ms``);
5. act on the fault, or hand the request to the API.

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
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import problems
from .profile import LoadProfile
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

    def admit(self) -> bool:
        """True if a request arriving now is under the limits (it then counts against them)."""
        profile = self.profile
        if profile.max_in_flight is not None and self._in_flight >= profile.max_in_flight:
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
            stats.throttle(second)
            stats.answered(429)
            return problems.too_many_requests().response(headers=self._retry_after)
        self._in_flight += 1
        stats.began()
        status = 500
        try:
            response = await self._serve(request, handler)
            if response is None:  # dropped: aiohttp writes this to a closed transport
                status = 0
                return web.Response()
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 0
            raise
        finally:
            self._in_flight -= 1
            stats.ended()
            if status:
                stats.answered(status)

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


_WRITES = frozenset({"POST", "DELETE"})


async def _drop(request: web.Request) -> None:
    """Read the request, then close the connection so the client gets no answer at all."""
    await request.read()
    if request.transport is not None:
        request.transport.close()
