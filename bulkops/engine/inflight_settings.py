"""How an :class:`~bulkops.engine.inflight.InFlightController` shares and probes.

One frozen value, checked when made; how the defaults were chosen (simulation in
``tests/account_sim.py``, then the benchmark's account scenarios) is in
``benchmarks/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InFlightSettings:
    """How an :class:`InFlightController` shares and probes; checked when made."""

    #: The window never goes below this.
    floor: int = 1
    #: The window until the first answer says whether Twilio counts for us (a burst of 16
    #: from each of two runs starting together opened with 22 429s on an account of 10).
    initial_limit: int = 4
    #: Seconds without a 429 before trying one more than the learnt limit.
    probe_interval_s: float = 10.0
    #: Round trips the larger share waits before taking room (the smaller takes it at
    #: once); well over ``others_ticks``, so a slot given back is seen by the others
    #: before the giver takes it back.
    patience_ticks: int = 8
    #: A run holding all it can leaves one slot free one tick in this many.
    share_every_ticks: int = 20
    #: Seconds of 429s without any room that pause only ``pause_initial_s`` each.
    knock_s: float = 2.0
    #: The engine-wide pause after a 429 that found no room at all.
    pause_initial_s: float = 0.02
    #: The longest such pause.
    pause_cap_s: float = 30.0
    #: Weight of each new sample in the round-trip average (exponential smoothing).
    rtt_weight: float = 0.125
    #: Round trips the others must stay lower before the window grows into their room.
    others_ticks: int = 3
    #: Round trips the window does not grow after a 429 at a full account. Another
    #: run's calls can reach Twilio after ours every time, so our counts never show
    #: them; growing into that room at once would knock again and again.
    hold_ticks: int = 20
    #: Once the account's limit is known, call starts are spaced at least
    #: ``round trip ÷ (window × pacing_ratio)`` apart (TCP pacing; Linux paces at
    #: 120 % of window ÷ round trip, ``tcp_pacing_ca_ratio``). Against a fixed
    #: latency, calls started back to back stay bunched, and each bunch leaves
    #: slots idle while it is answered; spaced starts keep the account full.
    pacing_ratio: float = 1.2
    #: Spacing below this many seconds is not enforced (0: always): the event
    #: loop's timers are no finer than a millisecond.
    min_pace_s: float = 0.001

    def __post_init__(self) -> None:
        rules = (
            ("floor", self.floor >= 1, "at least 1"),
            ("initial_limit", self.initial_limit >= self.floor, "at least floor"),
            ("share_every_ticks", self.share_every_ticks >= 1, "at least 1"),
            ("patience_ticks", self.patience_ticks >= 0, ">= 0"),
            ("knock_s", self.knock_s >= 0, ">= 0"),
            ("probe_interval_s", self.probe_interval_s > 0, "positive"),
            ("pause_initial_s", 0 <= self.pause_initial_s <= self.pause_cap_s, "0 to pause_cap_s"),
            ("rtt_weight", 0.0 < self.rtt_weight <= 1.0, "in (0, 1]"),
            ("others_ticks", self.others_ticks >= 1, "at least 1"),
            ("hold_ticks", self.hold_ticks >= 0, ">= 0"),
            ("pacing_ratio", self.pacing_ratio >= 1.0, "at least 1"),
            ("min_pace_s", self.min_pace_s >= 0, ">= 0"),
        )
        for name, ok, rule in rules:
            if not ok:
                raise ValueError(f"{name} must be {rule}, got {getattr(self, name)!r}")
