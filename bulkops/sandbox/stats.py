"""What the sandbox saw: request counts, throttling, faults and a per-second timeline.

Recording a request is a few dict and deque operations; the JSON shape that
``GET /sandbox/stats`` returns is built only when asked for (:meth:`Stats.snapshot`).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from enum import StrEnum
from typing import Any

#: The route of a request that matched none (an unknown path, or a known one with another method).
OTHER_ROUTE = "other"


class Fault(StrEnum):
    """A failure the sandbox injects on purpose."""

    #: Answer 500/20500 without touching the world.
    ERROR_500 = "500"
    #: Answer 503/20503 without touching the world.
    ERROR_503 = "503"
    #: Read the request, then close the connection without any response.
    DROP = "drop"
    #: Hold the request for ``stall_s`` before handling it.
    STALL = "stall"


class Stats:
    """Counters since start (or the last :meth:`reset`), on a monotonic clock."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        """Forget everything counted so far and restart the timeline at now.

        ``in_flight`` keeps its value: requests being served are still being served.
        """
        self.started_at = self._clock()
        self.requests = 0
        self.by_status: Counter[int] = Counter()
        self.by_method: Counter[str] = Counter()
        self.by_route: Counter[str] = Counter()
        self.throttled = 0
        self.faults: Counter[Fault] = Counter({fault: 0 for fault in Fault})
        self.peak_in_flight = self.in_flight
        self.peak_per_second = 0
        #: The most requests the account had in flight, other traffic included.
        self.peak_account_in_flight = 0
        self.per_second: list[int] = []
        self.throttled_per_second: list[int] = []
        self.account_in_flight_per_second: list[int] = []
        self._window: deque[float] = deque()

    def arrived(self, method: str, route: str = OTHER_ROUTE) -> int:
        """Count one request arriving now; returns its second since start.

        ``route`` is the method and the spec's path template it matched, e.g.
        ``GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json``.
        """
        now = self._clock()
        self.requests += 1
        self.by_method[method] += 1
        self.by_route[route] += 1
        window = self._window
        window.append(now)
        horizon = now - 1.0
        while window[0] <= horizon:
            window.popleft()
        if len(window) > self.peak_per_second:
            self.peak_per_second = len(window)
        second = int(now - self.started_at)
        per_second = self.per_second
        if second >= len(per_second):
            grow = second + 1 - len(per_second)
            per_second.extend([0] * grow)
            self.throttled_per_second.extend([0] * grow)
            self.account_in_flight_per_second.extend([0] * grow)
        per_second[second] += 1
        return second

    def began(self) -> None:
        """A request was admitted and is now in flight."""
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight

    def level(self, second: int, account_in_flight: int) -> None:
        """The account had ``account_in_flight`` in flight when a request arrived in ``second``."""
        if account_in_flight > self.peak_account_in_flight:
            self.peak_account_in_flight = account_in_flight
        peaks = self.account_in_flight_per_second
        if second < len(peaks) and account_in_flight > peaks[second]:
            peaks[second] = account_in_flight

    def ended(self) -> None:
        """An admitted request finished (answered, dropped or cancelled)."""
        self.in_flight -= 1

    def answered(self, status: int) -> None:
        """Count one response by HTTP status."""
        self.by_status[status] += 1

    def throttle(self, second: int) -> None:
        """Count one request refused with 429, in the second it arrived."""
        self.throttled += 1
        if second < len(self.throttled_per_second):
            self.throttled_per_second[second] += 1

    def fault(self, fault: Fault) -> None:
        """Count one injected fault."""
        self.faults[fault] += 1

    def snapshot(self, *, world: dict[str, int] | None = None) -> dict[str, Any]:
        """The JSON document of ``GET /sandbox/stats``."""
        elapsed_s = self._clock() - self.started_at
        seconds = int(elapsed_s) + 1
        pad = max(0, seconds - len(self.per_second))
        doc: dict[str, Any] = {
            "elapsed_s": round(elapsed_s, 3),
            "requests": self.requests,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_method": dict(sorted(self.by_method.items())),
            "by_route": dict(sorted(self.by_route.items())),
            "throttled": self.throttled,
            "faults": {fault.value: self.faults[fault] for fault in Fault},
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "peak_per_second": self.peak_per_second,
            "peak_account_in_flight": self.peak_account_in_flight,
            "per_second": {
                "requests": self.per_second + [0] * pad,
                "throttled": self.throttled_per_second + [0] * pad,
                "account_in_flight": self.account_in_flight_per_second + [0] * pad,
            },
        }
        if world is not None:
            doc["world"] = world
        return doc
