"""How the sandbox behaves under load: a frozen :class:`LoadProfile`, all off by default.

Pure data, apart from the server, so the command line can describe a profile
(``bulkops run --sandbox --max-in-flight 10``) without loading the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import check_non_negative, check_positive
from .stats import Fault

#: Twilio's header with the account's requests in flight, on every API answer
#: (https://www.twilio.com/docs/api/errors/20429: "Monitor Twilio response headers
#: like Twilio-Concurrent-Requests"). The sandbox sends the count as it admits: the
#: account's requests being served, other traffic included, the answered request
#: too if it was admitted; on a 429 the count that left no room.
CONCURRENCY_HEADER = "Twilio-Concurrent-Requests"

#: Steps of other traffic: (seconds since the schedule started, requests in flight).
Schedule = tuple[tuple[float, int], ...]


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """How the sandbox behaves under load; the defaults make it fast and faultless."""

    #: Requests being served at once before 429s; None = unlimited.
    max_in_flight: int | None = None
    #: Requests admitted in any one-second window before 429s; None = unlimited.
    max_per_second: int | None = None
    #: Seconds in a ``Retry-After`` header on 429s; None = no header (as Twilio).
    retry_after_s: int | None = None
    #: Mean extra time before each answer, in milliseconds.
    latency_mean_ms: float = 0.0
    #: Uniform jitter around the mean latency, ± milliseconds.
    latency_jitter_ms: float = 0.0
    #: Probability of answering 500/20500.
    fail_500_p: float = 0.0
    #: Probability of answering 503/20503.
    fail_503_p: float = 0.0
    #: Probability of closing the connection without an answer.
    drop_p: float = 0.0
    #: Probability of holding the request ``stall_s`` before answering.
    stall_p: float = 0.0
    #: How long a stalled request is held, in seconds.
    stall_s: float = 120.0
    #: Seed of the fault and jitter draws; None = unseeded.
    seed: int | None = None
    #: Seconds every write (POST, DELETE) is held before it is applied; it is applied
    #: even when the client gave up waiting, as Twilio may apply a timed-out write.
    hold_writes_s: float = 0.0
    #: Other traffic on the account: requests it keeps in flight all the time. They
    #: count against ``max_in_flight`` and in the concurrency header like any client's.
    background_in_flight: int = 0
    #: Other traffic that moves: ``(t_s, n)`` steps, n in flight from t_s seconds after
    #: the first API request (since start or the last stats reset); before the first
    #: step, ``background_in_flight``. Times strictly increasing.
    background_schedule: Schedule = ()
    #: Send :data:`CONCURRENCY_HEADER` on every API answer, as Twilio does.
    concurrency_header: bool = True

    def __post_init__(self) -> None:
        check_schedule(self.background_schedule)
        for name in ("max_in_flight", "max_per_second"):
            if (value := getattr(self, name)) is not None:
                check_positive(name, value)
        if self.retry_after_s is not None:
            check_non_negative("retry_after_s", self.retry_after_s)
        check_non_negative("latency_mean_ms", self.latency_mean_ms)
        check_non_negative("latency_jitter_ms", self.latency_jitter_ms)
        check_non_negative("hold_writes_s", self.hold_writes_s)
        check_non_negative("background_in_flight", self.background_in_flight)
        for name in _FAULT_FIELDS.values():
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability from 0 to 1, got {p!r}")
        total = sum(self.fault_probabilities.values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities add up to {total:g}, more than 1")
        check_positive("stall_s", self.stall_s)

    @property
    def fault_probabilities(self) -> dict[Fault, float]:
        """The probability of each injected fault."""
        return {fault: getattr(self, name) for fault, name in _FAULT_FIELDS.items()}


def check_schedule(schedule: Schedule) -> Schedule:
    """``schedule`` if its times are >= 0 and strictly increasing and its counts >= 0.

    Raises ValueError naming the first bad step.
    """
    last = -1.0
    for t_s, n in schedule:
        if not t_s > last or t_s < 0:
            raise ValueError(f"background schedule times must increase from 0, got {t_s:g}")
        if n < 0:
            raise ValueError(f"background schedule counts must be >= 0, got {n!r} at {t_s:g} s")
        last = t_s
    return schedule


_FAULT_FIELDS = {
    Fault.ERROR_500: "fail_500_p",
    Fault.ERROR_503: "fail_503_p",
    Fault.DROP: "drop_p",
    Fault.STALL: "stall_p",
}
