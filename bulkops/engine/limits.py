"""The throttles of the call loop.

* :class:`RateGate` spaces call starts in time (aiolimiter's leaky bucket).
* :class:`ConcurrencyWindow` bounds calls in flight; the AIMD controller retunes it.
* :class:`StartSpacing` hands out start times at least an interval apart: the
  account-limit pace, and the pre-run listings' ``--rate``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

from aiolimiter import AsyncLimiter

#: Share of the rate the bucket holds beyond one call. ``AsyncLimiter(rate, 1)``
#: holds a whole second, so it lets about twice the rate through in the first
#: second; a bucket of 1 + 0.5 % of the rate keeps every one-second window within
#: rate + 0.5 % + 1. The fraction above 1 matters: with a bucket of exactly 1, a
#: timer that fires late loses its lateness (the level cannot go below zero), and
#: at 50/s that cost 4.5 % of the rate; the quarter of a call of slack (0.5 % of 50)
#: absorbs it.
BURST_SHARE = 0.005


def bucket_size(rate_per_s: float) -> float:
    """How many calls may start back to back at ``rate_per_s``: 1 plus a little slack."""
    return 1.0 + rate_per_s * BURST_SHARE


class RateGate:
    """At most ``rate_per_s`` call starts per second, in every one-second window; 0: no limit.

    aiolimiter's leaky bucket with an explicit bucket of :func:`bucket_size`
    (its default period would allow a full minute's burst). Build it inside the
    running loop: aiolimiter binds to the loop on first use.
    """

    def __init__(self, rate_per_s: float) -> None:
        self.rate_per_s = rate_per_s
        size = bucket_size(rate_per_s)
        self._limiter = AsyncLimiter(size, size / rate_per_s) if rate_per_s > 0 else None

    async def acquire(self) -> None:
        """Wait until a call may start."""
        if self._limiter is not None:
            await self._limiter.acquire()


class StartSpacing:
    """Start times at least an interval apart, in the order they are taken (seconds).

    Each caller takes the next start, now or the interval after the start taken
    before it, whichever is later, and waits for it; so callers that ask at once
    are spaced out, not released together. The interval may change from one
    call to the next.
    """

    __slots__ = ("next_s",)

    def __init__(self) -> None:
        #: The earliest the next start may be (-inf before the first).
        self.next_s = -math.inf

    def wait_s(self, now_s: float, interval_s: float) -> float:
        """Take the next start, ``interval_s`` before the one after it; seconds until it."""
        start_s = max(now_s, self.next_s)
        self.next_s = start_s + interval_s
        return start_s - now_s


class ConcurrencyWindow:
    """A semaphore whose limit can change while tasks hold and wait for it.

    First come, first served: a freed slot goes to the task that has waited
    longest, never to one arriving after it, so a call that queues again for a
    retry is not passed over for the whole run by workers coming back for their
    next row.
    """

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def retune(self, limit: int) -> None:
        """Set a new limit (at least 1); calls already in flight finish undisturbed."""
        self._limit = max(1, limit)
        self._wake()

    async def __aenter__(self) -> None:
        if self._in_flight < self._limit and not self._waiters:
            self._in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # resolved with the slot already counted as ours
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._in_flight -= 1  # handed a slot we can no longer use: pass it on
                self._wake()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._in_flight -= 1
        if self._wake():
            # Let the waiter start its call before this task goes on to its row's
            # bookkeeping: with every slot taken, a slot left idle that long cost
            # a few per cent of the account's capacity.
            await asyncio.sleep(0)

    def _wake(self) -> bool:
        """Hand free slots to the longest waiters, counting each as taken; True if any."""
        waiters = self._waiters
        woke = False
        while self._in_flight < self._limit and waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                self._in_flight += 1
                waiter.set_result(None)
                woke = True
        return woke
