"""The account's concurrency limit, learnt from the counts Twilio's answers carry.

Twilio does not publish an account's limit; :class:`LimitLearner` infers it from
``Twilio-Concurrent-Requests`` (the account's requests in flight when a call
arrived):

* A 429 at count ``H`` means no room at ``H``. If the account has admitted a call
  at ``H`` since the last lesson, the limit is ``H``; otherwise ``H - 1``, in case
  Twilio counts the refused call too. Only a 429 below what is known teaches: one
  above it means others jumped past the limit, not that the limit moved.
* An admitted call at ``H`` above the learnt limit raises it to ``H``: the account
  let it in (so a first lesson of ``H - 1`` is corrected by the next full answer).
* After ``probe_interval_s`` without a lesson or a probe (ten times the last
  Retry-After, if longer: a probe costs its row that wait), the controller may
  try one more, in case the limit rose; the 429 that may cost puts it back.

:class:`RecentMost` keeps the controller's other estimates: everyone else's
requests in flight, and the account's, as the most seen over recent round trips.

Pure: no clock of its own, times are passed in (seconds).
"""

from __future__ import annotations

import math
from collections import deque


class LimitLearner:
    """The account's limit as far as its answers tell (:attr:`limit`, None until a 429)."""

    __slots__ = ("_admitted_max", "_every_s", "_since", "floor", "limit", "probe_interval_s")

    def __init__(self, *, floor: int = 1, probe_interval_s: float = 10.0) -> None:
        self.floor = floor
        self.probe_interval_s = probe_interval_s
        #: The learnt limit; None until the first 429 with a count.
        self.limit: int | None = None
        self._admitted_max = 0  # the most the account admitted since the last lesson
        self._since = -math.inf  # the last lesson or probe
        self._every_s = probe_interval_s

    def admitted(self, count: int) -> None:
        """The account let a call in with ``count`` in flight, itself included."""
        if count > self._admitted_max:
            self._admitted_max = count
        if self.limit is not None and count > self.limit:
            self.limit = count

    def refused(self, count: int, now_s: float) -> bool:
        """A 429 at ``count``; True if it taught a (lower or first) limit."""
        if self.limit is not None and count >= self.limit:
            return False
        seen = self._admitted_max >= count
        self.limit = max(self.floor, count if seen else count - 1)
        self._admitted_max = 0
        self._since = now_s
        return True

    def retry_after(self, wait_s: float) -> None:
        """Twilio asked a refused call to wait ``wait_s``: space the probes accordingly."""
        self._every_s = max(self.probe_interval_s, 10 * wait_s)

    def probe_due(self, now_s: float) -> bool:
        """Long enough since the last lesson or probe to try one more."""
        return self.limit is not None and now_s - self._since >= self._every_s

    def probe(self, now_s: float) -> None:
        """Try one more than the learnt limit (call when :meth:`probe_due` and it binds)."""
        assert self.limit is not None
        self.limit += 1
        self._since = now_s


class RecentMost:
    """The most of a count seen over the last ``ticks`` round trips: up at once, down slowly.

    Fed every answer's sample (:meth:`see`) and told when a round trip ends
    (:meth:`tick`). ``H - mine`` undercounts the other traffic whenever this run's
    finished calls are unread, or another process pauses for a moment (an fsync,
    a busy core); the most over a few round trips ignores such dips, so a run
    does not grow into a slot another is about to reuse.
    """

    __slots__ = ("_recent", "_seen", "value")

    def __init__(self, ticks: int) -> None:
        #: The estimate: the most seen over the last ``ticks`` round trips, or more since.
        self.value: int | None = None
        self._seen = 0
        self._recent: deque[int] = deque(maxlen=max(1, ticks))

    def see(self, sample: int) -> None:
        """One answer's count (negative counts as 0)."""
        sample = max(0, sample)
        if self.value is None or sample > self.value:
            self.value = sample
        if sample > self._seen:
            self._seen = sample

    def tick(self) -> None:
        """A round trip ended: forget what is older than ``ticks`` of them."""
        self._recent.append(self._seen)
        self._seen = 0
        self.value = max(self._recent)
