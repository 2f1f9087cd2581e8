"""When to try a call again, and how long to wait first: a pure policy.

Nothing here sleeps or reads a clock; the caller passes the attempt number, the
error, a uniform random number and "now", so tests need no real time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from .errors import ApiError, TransientError

_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


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
        Retry-After, when given, is a floor, itself clamped to the cap.
        """
        ceiling = min(self.cap_s, self.initial_s * 2.0 ** (attempt - 1))
        wait = rand * ceiling
        if retry_after_s is not None:
            wait = max(wait, min(max(retry_after_s, 0.0), self.cap_s))
        return wait


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max((when - now).total_seconds(), 0.0)
