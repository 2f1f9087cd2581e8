"""When to try a call again, and how long to wait first: a pure policy.

Nothing here sleeps or reads a clock; the caller passes the attempt number, the
error and a uniform random number, so tests need no real time. Reading a
``Retry-After`` header is the Twilio layer's
(:func:`bulkops.twilio.answers.parse_retry_after`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError, TransientError

#: The largest exponent :func:`capped_doubling` raises 2 to. ``2.0 ** 1023`` is the
#: largest power of two a float holds (one more raises OverflowError), and
#: ``base * 2**1023`` is past any cap unless ``base < cap / 8.9e307``.
_MAX_DOUBLINGS = 1023


def capped_doubling(base: float, doublings: int, cap: float) -> float:
    """``base`` doubled ``doublings`` times, at most ``cap``: any count, however large.

    The doubling stops at ``2**1023``, long after the cap is reached, so no
    count overflows. Backoff's ceiling and the engine-wide 429 pause both grow so.
    """
    return min(cap, base * 2.0 ** min(doublings, _MAX_DOUBLINGS))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter, floored by Retry-After, capped."""

    initial_s: float = 0.5
    cap_s: float = 30.0
    max_attempts: int = 6

    def should_retry(self, attempt: int, error: ApiError) -> bool:
        """Whether attempt ``attempt`` (1-based), failed with ``error``, gets another try."""
        return isinstance(error, TransientError) and attempt < self.max_attempts

    def delay_s(self, attempt: int, *, rand: float, retry_after_s: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt``; ``rand`` is uniform in [0, 1).

        Full jitter: uniform in [0, min(cap, initial * 2**(attempt-1))). A
        Retry-After, when given, is a floor, itself clamped to the cap. Any
        ``attempt``, however large, gives a wait (see :func:`capped_doubling`).
        """
        ceiling = capped_doubling(self.initial_s, attempt - 1, self.cap_s)
        wait = rand * ceiling
        if retry_after_s is not None:
            wait = max(wait, min(max(retry_after_s, 0.0), self.cap_s))
        return wait
