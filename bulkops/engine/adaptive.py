"""Find the account's real concurrency limit and sit just under it: a pure AIMD controller.

Twilio throttles by requests in flight per account (429, code 20429), shared with
everything else the account does, and does not publish the number.
:class:`AimdController` learns it from 429s alone; ``--concurrency`` is only its
ceiling. It is the fallback of :class:`~bulkops.engine.inflight.InFlightController`
when answers do not carry Twilio's count of the account's requests in flight.

* **Slow start.** The limit starts at ``initial_limit`` and grows by one per
  success (doubling each round trip) until the first 429 or the ceiling.
* **Multiplicative decrease, once per episode.** A 429 cuts the limit by
  ``decrease_factor`` and pauses every worker. Each call carries a :class:`Ticket`;
  only a 429 of a call started after the last cut cuts again (earlier ones are
  echoes of the same episode).
* **Additive increase.** After the first 429, each success of a call started
  since the last cut adds ``increase_step / limit``: about one per round trip.
* **Global pause.** A cut pauses new starts for ``pause_initial_s *
  2**(episodes - 1)``, capped at ``pause_cap_s``; a full window of successes
  resets the doubling. A 429's ``Retry-After`` is the throttled call's own wait,
  not everyone's (see :mod:`bulkops.engine.calls`): pausing the whole engine for
  it at every probe is what made 200 rows at a limit of 5 take 28 s, not 4.
* **Memory when probes are dear.** A 429 that carries ``Retry-After`` costs its
  row that wait, so after one the additive increase stops one below the limit
  that drew it for ``retry_after_hold_s`` before probing again.

The rate (``--rate``) is not adapted: by Little's law the window already bounds
it to ``limit / latency``. The tuning above is one frozen :class:`AimdSettings`,
whose defaults are the engine's; how they were chosen is in ``benchmarks/README.md``.

Nothing here sleeps, logs or touches asyncio. Each ``on_*`` method returns whether
:attr:`AimdController.limit` changed, so the caller can retune its window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..config import check_non_negative, check_positive
from ..retry import capped_doubling


class Ticket(NamedTuple):
    """Handed out when a call starts and handed back with its outcome.

    An immutable tuple rather than a frozen dataclass: one is made per call,
    and a tuple costs half as much to make.
    """

    #: How many cuts the AIMD controller had made when the call started.
    epoch: int
    #: When the call started (the controller's clock, seconds).
    started_s: float = 0.0
    #: The run's calls in flight when it started, itself included.
    mine: int = 0


@dataclass(frozen=True, slots=True)
class AimdSettings:
    """How an :class:`AimdController` probes and backs off; checked when made."""

    #: The limit never goes below this.
    floor: int = 1
    #: Where slow start begins (kept between ``floor`` and the controller's ceiling).
    #: 16, the default ``--concurrency``: a run that asks for no more starts at full
    #: width, a bolder one probes up (benchmarks/README.md, "Slow start").
    initial_limit: int = 16
    #: A 429 multiplies the limit by this, once per congestion episode. Gentle, since
    #: a 429 says the window is only one or two over (benchmarks/README.md, "AIMD cut").
    decrease_factor: float = 0.85
    #: Added to the limit over one window's successes, after the first 429.
    increase_step: float = 1.0
    #: The first engine-wide pause after a cut; it doubles per consecutive episode.
    #: About one round trip: longer only idles the account (benchmarks/README.md).
    pause_initial_s: float = 0.02
    #: The longest pause, the first pause included.
    pause_cap_s: float = 30.0
    #: After a 429 with Retry-After, seconds the limit stays below the one that drew it.
    retry_after_hold_s: float = 10.0

    def __post_init__(self) -> None:
        check_positive("floor", self.floor)
        if not 0.0 < self.decrease_factor < 1.0:
            raise ValueError(f"decrease_factor must be in (0, 1), got {self.decrease_factor!r}")
        check_positive("increase_step", self.increase_step)
        check_non_negative("pause_initial_s", self.pause_initial_s)
        check_non_negative("pause_cap_s", self.pause_cap_s)
        check_non_negative("retry_after_hold_s", self.retry_after_hold_s)


class AimdController:
    """An in-flight limit between ``settings.floor`` and ``ceiling``, learnt from 429s."""

    def __init__(
        self,
        ceiling: int,
        *,
        clock: Callable[[], float],
        settings: AimdSettings = AimdSettings(),
    ) -> None:
        if ceiling < settings.floor:
            raise ValueError(f"ceiling must be at least floor ({settings.floor}), got {ceiling!r}")
        self.ceiling = ceiling
        self.settings = settings
        self._clock = clock
        self._limit = min(max(settings.initial_limit, settings.floor), ceiling)
        self._credit = 0.0  # successes towards the next additive step
        self._slow_start = True
        self._epoch = 0
        #: Consecutive throttle episodes without a full window of successes between.
        self.episodes = 0
        self._streak = 0
        self.paused_until = -math.inf
        #: After a 429 with Retry-After: the limit stays below this until ``held_until``.
        self.held_below: int | None = None
        self.held_until = -math.inf

    @property
    def limit(self) -> int:
        """How many calls may be in flight now."""
        return self._limit

    @property
    def epoch(self) -> int:
        """How many cuts so far: what a :class:`Ticket` records."""
        return self._epoch

    def pause_remaining_s(self) -> float:
        """Seconds every worker must still wait before starting a call; 0 when none."""
        return max(0.0, self.paused_until - self._clock())

    def on_start(self) -> Ticket:
        """Call just before sending a request; pass the ticket back with its outcome."""
        return Ticket(self._epoch)

    def on_success(self, ticket: Ticket) -> bool:
        """The account admitted the call (any answer but 429, 5xx or no answer).

        Grows the limit unless the call started before the last cut: its success
        says nothing about the smaller window.
        """
        if ticket.epoch != self._epoch:
            return False
        self._streak += 1
        if self._streak >= self._limit:
            self.episodes = 0
        before = self._limit
        if self._slow_start:
            self._limit += 1
        else:
            self._credit += self.settings.increase_step
            while self._credit >= self._limit:
                self._credit -= self._limit
                self._limit += 1
        ceiling = self.ceiling
        if self.held_below is not None and self._clock() < self.held_until:
            ceiling = min(ceiling, max(self.held_below - 1, self.settings.floor, before))
        self._limit = min(self._limit, ceiling)
        return self._limit != before

    def on_throttle(self, ticket: Ticket, retry_after_s: float | None = None) -> bool:
        """A 429: cut the limit and pause everyone, once per congestion episode.

        A 429 of a call started before the last cut is an echo of the same
        episode and changes nothing. ``retry_after_s`` does not lengthen the
        pause; when given, the limit stays under the one that drew this 429
        for ``retry_after_hold_s``.
        """
        now = self._clock()
        settings = self.settings
        if ticket.epoch != self._epoch:
            return False
        if retry_after_s is not None:
            self.held_below = self._limit
            self.held_until = now + settings.retry_after_hold_s
        before = self._limit
        self._epoch += 1
        self.episodes += 1
        self._streak = 0
        self._credit = 0.0
        self._slow_start = False
        self._limit = max(settings.floor, math.floor(self._limit * settings.decrease_factor))
        backoff = capped_doubling(settings.pause_initial_s, self.episodes - 1, settings.pause_cap_s)
        self.paused_until = max(self.paused_until, now + backoff)
        return self._limit != before
