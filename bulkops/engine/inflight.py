"""Sit at the account's real limit, steered by Twilio's own count: a pure controller.

Twilio limits an account by requests in flight, shared with everything else the
account does, and gives the account's count on every answer
(``Twilio-Concurrent-Requests``; https://www.twilio.com/docs/api/errors/20429).
With ``H`` that count when a call arrived and ``mine`` this run's calls in flight
when it was sent, ``H - mine`` is everyone else: other processes, the account's
production traffic. It can only undercount them (calls the account finished but
whose answers are unread still count as mine, another process may pause for a
moment), so ``others`` is the most seen over the last ``others_ticks`` round
trips; an answer sent before the latest 429 is old news.

* **The account's limit** is learnt from the counts 429s come at, with a probe of
  one more now and then (:class:`~bulkops.engine.account_limit.LimitLearner`).
* **The window** is ``limit - others``: the account's total sits at its limit. It
  shrinks at once when others rise (a 429 takes one more off), else moves once a
  round trip (a tick); never above ``ceiling`` (``--concurrency``) nor below
  ``floor``. It opens at ``initial_limit`` until the first answers tell.
* **Sharing, no coordinator.** Room is taken half a round trip (a quarter, at
  least a slot, for a while after a hold: see below). One tick in
  ``share_every_ticks`` a run holding all it can leaves a slot free, so a run
  knocking on a full account gets in (0.5 % of a limit of 10). The smaller share
  takes room first (the larger waits ``patience_ticks``); a share two larger
  than all the others together gives a slot back each tick, half as often each
  time nobody takes it (production traffic does not grow into room). Two runs
  on one account settle on halves.
* **Others the counts miss.** When another run's calls always reach Twilio just
  after ours, no count of ours shows them. A 429 at a full account that our own
  calls could not fill (``H > mine``) is the proof: the window keeps only the
  calls still out (the refused call's slot is not refilled into a full account,
  so one overshoot costs one 429, not a cascade), and if that is at least the
  others this 429 showed (this run holds the larger share), it takes no room for
  ``hold_ticks`` round trips, then takes it back a quarter at a time. A run cut
  down by a crowd larger than itself is not held (a hold it had ends): when the
  crowd leaves, it takes the room back half at a time.
* **No room at all** (``others >= limit``): the window stays at ``floor`` and each
  such 429 pauses every call ``pause_initial_s`` (a newcomer knocking, at most 50
  a second) for ``knock_s``, then doubling up to ``pause_cap_s``: sparse probes.
* **Retry-After** is the throttled call's own wait (:mod:`bulkops.engine.calls`):
  the window already fits, so the others go on.
* **Paced starts.** Once the limit is known, :attr:`InFlightController.pace_s`
  spaces call starts a round trip ÷ (window × ``pacing_ratio``) apart. Calls
  started back to back against a steady latency come back, and go out again,
  back to back; while a bunch is answered and re-sent, the account's slots
  stand idle. Paced, bulkops finishes the benchmark's fixed-limit scenario in
  about 0.95× the time of a loop told the limit that starts its calls unpaced.

Without the header (a proxy stripped it) :class:`~bulkops.engine.adaptive.AimdController`
steers; once a header has been seen, answers without one change nothing. The
once-a-round-trip decisions (share, take room, give back, hold) are
:class:`~bulkops.engine.sharing.Sharing`'s. How
the settings (:class:`~bulkops.engine.inflight_settings.InFlightSettings`) were
chosen is in ``benchmarks/README.md``. Nothing here sleeps, logs or touches
asyncio; time comes from ``clock`` (seconds). Each ``on_*`` method returns
whether :attr:`InFlightController.limit` changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..retry import capped_doubling
from .account_limit import LimitLearner, RecentMost
from .adaptive import AimdController, AimdSettings, Ticket
from .inflight_settings import InFlightSettings
from .sharing import Sharing

_AIMD_DEFAULTS = AimdSettings()
_DEFAULTS = InFlightSettings()


class InFlightController:
    """A run's window of calls in flight, between ``floor`` and ``ceiling``.

    Steered by ``Twilio-Concurrent-Requests`` when answers carry it, else by
    :attr:`aimd` (an :class:`AimdController` built from ``aimd_settings``); it
    starts at ``settings.initial_limit``. Raises ValueError for a ``ceiling``
    below ``settings.floor``.
    """

    def __init__(
        self,
        ceiling: int,
        *,
        clock: Callable[[], float],
        aimd_settings: AimdSettings = _AIMD_DEFAULTS,
        settings: InFlightSettings = _DEFAULTS,
    ) -> None:
        if ceiling < settings.floor:
            raise ValueError(f"ceiling must be at least floor ({settings.floor}), got {ceiling!r}")
        self.ceiling = ceiling
        self.settings = settings
        self._clock = clock
        #: The fallback, in charge until an answer carries the header.
        self.aimd = AimdController(ceiling, clock=clock, settings=aimd_settings)
        #: True once an answer carried the header: from then on it steers.
        self.steered = False
        self._fallen_back = False  # an answer without the header came first: AIMD steers
        self._limit = min(ceiling, settings.initial_limit)
        #: What the answers tell of the account's limit.
        self.learner = LimitLearner(
            floor=settings.floor, probe_interval_s=settings.probe_interval_s
        )
        #: The account's requests in flight: the most counted over the last round trip.
        self._count = RecentMost(1)
        #: Everyone else's requests in flight: the most over the last ``others_ticks``.
        self._others = RecentMost(settings.others_ticks)
        # _news_at: when the call that told us ``others`` started.
        self._news_at = self._next_tick = self._paused_until = self._cut_at = -math.inf
        self._rtt_s = 0.0
        #: The once-a-round-trip decisions: share, take room, give back, hold.
        self.sharing = Sharing(settings)
        self._knocking_since: float | None = None  # when 429s without any room began
        self._doublings = 0
        self._answered_others = 0  # the most others an answer showed since the last hold
        #: Seconds between call starts, once the account's limit is known; 0: not paced.
        self.pace_s = 0.0

    @property
    def limit(self) -> int:
        """How many calls this run may have in flight now."""
        return self.aimd.limit if self._fallen_back and not self.steered else self._limit

    @property
    def account_limit(self) -> int | None:
        """The account's limit as learnt from 429s; None until the first."""
        return self.learner.limit

    @property
    def paused_until(self) -> float:
        """When every call may start again (the clock's seconds; -inf: never paused)."""
        return self._paused_until if self.steered else self.aimd.paused_until

    def pause_remaining_s(self) -> float:
        """Seconds every call must still wait before starting; 0 when none."""
        return max(0.0, self.paused_until - self._clock())

    def on_start(self, mine: int) -> Ticket:
        """Call just before sending; ``mine`` is this run's calls in flight, this one included."""
        return Ticket(self.aimd.epoch, self._clock(), mine)

    def on_answer(self, ticket: Ticket, account_in_flight: int | None) -> bool:
        """The account admitted the call (any answer but 429, 5xx or none), with its count."""
        if account_in_flight is None:
            return False if self.steered else self._fall_back(self.aimd.on_success(ticket))
        now = self._clock()
        self._steer_by_header()
        weight = self.settings.rtt_weight if self._rtt_s else 1.0
        self._rtt_s += (now - ticket.started_s - self._rtt_s) * weight
        self._knocking_since = None
        learner = self.learner
        learner.admitted(account_in_flight)
        if ticket.started_s < self._news_at:
            return False  # older than what we know of the others
        self._news_at = ticket.started_s
        others = account_in_flight - ticket.mine
        if others > self._answered_others:
            self._answered_others = others
        self._see(account_in_flight, others)
        if learner.limit is None:  # slow start: nothing refused yet
            before = self._limit
            self._limit = min(before + 1, self.ceiling)
            return self._limit != before
        if learner.probe_due(now) and self._limit == self._cap() < self.ceiling:
            learner.probe(now)  # held by the account's limit for a while: has it risen?
        return self._steer(now)

    def on_throttle(
        self,
        ticket: Ticket,
        account_in_flight: int | None,
        retry_after_s: float | None = None,
        *,
        in_flight: int | None = None,
    ) -> bool:
        """A 429 with the count that left no room: learn the limit, fit the window to it.

        ``retry_after_s`` spaces the probes (and reaches the AIMD fallback).
        ``in_flight`` is this run's calls in flight now, the refused one no longer
        counted: a 429 at a full account (no lesson) leaves the window no larger,
        so the slot the refused call held is not refilled at once, and the window
        does not grow for ``settings.hold_ticks`` round trips.
        """
        if retry_after_s is not None:
            self.learner.retry_after(retry_after_s)
        if account_in_flight is None:
            if not self.steered:
                return self._fall_back(self.aimd.on_throttle(ticket, retry_after_s))
            before = self._limit  # a 429 without a count: one fewer, to be safe
            self._limit = max(self.settings.floor, before - 1)
            return self._limit != before
        now = self._clock()
        self._steer_by_header()
        self._news_at = max(self._news_at, ticket.started_s)
        self._see(account_in_flight, account_in_flight - (ticket.mine - 1))  # not let in
        lesson = self.learner.refused(account_in_flight, now)
        if self._cap_raw() < 1:  # no room at all: everyone waits
            self._pause(now)
        before = self._limit
        echo = ticket.started_s < self._cut_at  # sent before the last cut: same overshoot
        limit = min(self._cap(), before if echo else max(self.settings.floor, before - 1))
        self.sharing.wait_for_room()
        crowd = account_in_flight - (ticket.mine - 1)  # others, as this 429 shows them
        if not lesson and crowd > 1:
            # Full, and not by our own overshoot: keep what we hold. If we hold the
            # larger share, the others may be ones our counts miss: hold for a while.
            if in_flight is not None:
                limit = min(limit, max(self.settings.floor, in_flight))
            self.sharing.hold(limit >= crowd, crowd)  # a crowd larger than us: visible, no hold
            self._answered_others = 0
        self._limit = limit
        self._cut_at = now
        self._pace()
        return self._limit != before

    @property
    def others(self) -> int:
        """Everyone else's requests in flight, as recent answers showed (0 before any)."""
        return self._others.value or 0

    @property
    def account_in_flight(self) -> int | None:
        """The account's requests in flight, the most counted over the last round trip."""
        return self._count.value

    def _see(self, count: int, others: int) -> None:
        """Fold in one answer's count and others: a rise at once, a fall a few ticks on."""
        self._others.see(others)
        self._count.see(count)

    def _fall_back(self, moved: bool) -> bool:
        """No header on the first answers: AIMD steers from here (its window, its slow start)."""
        first, self._fallen_back = not self._fallen_back, True
        return moved or (first and self.aimd.limit != self._limit)

    def _steer_by_header(self) -> None:
        if not self.steered:
            self.steered = True
            if self._fallen_back:
                self._limit = self.aimd.limit

    def _cap_raw(self) -> int:
        """What is left of the account's limit for this run: the limit less the others."""
        assert self.learner.limit is not None
        return self.learner.limit - self.others

    def _cap(self) -> int:
        """:meth:`_cap_raw` within floor and ceiling."""
        return min(self.ceiling, max(self.settings.floor, self._cap_raw()))

    def _pause(self, now: float) -> None:
        """Pause every call: a knock, or (after ``knock_s`` of them) a doubling wait."""
        settings = self.settings
        if self._knocking_since is None:
            self._knocking_since = now
            self._doublings = 0
        elif now - self._knocking_since >= settings.knock_s:
            self._doublings += 1
        wait_s = capped_doubling(settings.pause_initial_s, self._doublings, settings.pause_cap_s)
        self._paused_until = max(self._paused_until, now + wait_s)

    def _steer(self, now: float) -> bool:
        """Fit the window to ``limit - others`` after an admitted call (see the module)."""
        cap = self._cap()
        limit, others = self._limit, self.others
        if limit > cap:  # others rose: make room at once
            self._limit = cap
            self.sharing.wait_for_room()
            self._pace()
            return True
        if now < self._next_tick:
            return False
        self._next_tick = now + 0.9 * self._rtt_s  # about once a round trip
        self.sharing.tick()
        self.sharing.answers_showed(self._answered_others)
        self._others.tick()
        self._count.tick()
        if self.others < others:  # they fell: the window may grow into it
            others, cap = self.others, self._cap()
        self._limit = self.sharing.decide(limit, cap, others)
        self._pace()
        return self._limit != limit

    def _pace(self) -> None:
        """Space call starts to the window's round trip (the limit is known); see the module."""
        settings = self.settings
        gap_s = self._rtt_s / (self._limit * settings.pacing_ratio)
        self.pace_s = gap_s if gap_s >= settings.min_pace_s else 0.0


__all__ = ["InFlightController", "InFlightSettings"]
