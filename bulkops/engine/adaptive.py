"""Find the account's real concurrency limit and sit just under it: a pure AIMD controller.

Twilio throttles by requests in flight per account (429, code 20429), shared with
everything else the account does, and does not publish the number.
:class:`AimdController` learns it from the answers; ``--concurrency`` is only its
ceiling.

* **Slow start.** The limit starts at ``initial_limit`` and grows by one per
  success (doubling each round trip) until the first 429 or the ceiling.
* **Multiplicative decrease, once per episode.** A 429 cuts the limit by
  ``decrease_factor`` and pauses every worker. Each call carries a :class:`Ticket`;
  only a 429 of a call started after the last cut cuts again (earlier ones are
  echoes of the same episode).
* **Additive increase.** After the first 429, each success of a call started
  since the last cut adds ``increase_step / limit``: about one per round trip.
* **Global pause.** A cut pauses new starts for ``max(Retry-After clamped to
  pause_cap_s, pause_initial_s * 2**(episodes - 1))``, capped; a full window of
  successes resets the doubling.

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

from ..config import check_non_negative, check_positive
from ..retry import capped_doubling


@dataclass(frozen=True, slots=True)
class Ticket:
    """Handed out when a call starts and handed back with its outcome."""

    #: How many cuts the controller had made when the call started.
    epoch: int


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
    #: The longest pause, a 429's Retry-After and the first pause included.
    pause_cap_s: float = 30.0

    def __post_init__(self) -> None:
        check_positive("floor", self.floor)
        if not 0.0 < self.decrease_factor < 1.0:
            raise ValueError(f"decrease_factor must be in (0, 1), got {self.decrease_factor!r}")
        check_positive("increase_step", self.increase_step)
        check_non_negative("pause_initial_s", self.pause_initial_s)
        check_non_negative("pause_cap_s", self.pause_cap_s)


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

    @property
    def limit(self) -> int:
        """How many calls may be in flight now."""
        return self._limit

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
        self._limit = min(self._limit, self.ceiling)
        return self._limit != before

    def on_throttle(self, ticket: Ticket, retry_after_s: float | None = None) -> bool:
        """A 429: cut the limit and pause everyone, once per congestion episode.

        A 429 of a call started before the last cut only extends the pause to its
        own Retry-After; it does not cut again.
        """
        now = self._clock()
        settings = self.settings
        retry_after = min(max(retry_after_s or 0.0, 0.0), settings.pause_cap_s)
        if ticket.epoch != self._epoch:
            self.paused_until = max(self.paused_until, now + retry_after)
            return False
        before = self._limit
        self._epoch += 1
        self.episodes += 1
        self._streak = 0
        self._credit = 0.0
        self._slow_start = False
        self._limit = max(settings.floor, math.floor(self._limit * settings.decrease_factor))
        backoff = capped_doubling(settings.pause_initial_s, self.episodes - 1, settings.pause_cap_s)
        self.paused_until = max(self.paused_until, now + max(retry_after, backoff))
        return self._limit != before
