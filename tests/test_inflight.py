"""The header-steered controller, unit by unit: scripted Twilio-Concurrent-Requests on a fake clock.

Each test plays answers as the engine reports them: ``on_start(mine)`` when a
call is sent (``mine``: the run's calls in flight, itself included), then
``on_answer`` or ``on_throttle`` with the count Twilio put on the answer.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from support import FakeClock

from bulkops.engine.adaptive import AimdSettings
from bulkops.engine.inflight import InFlightController, InFlightSettings

RTT_S = 0.04


def make(
    clock: FakeClock | None = None, *, ceiling: int = 100, initial: int = 16, **settings: Any
) -> InFlightController:
    """A controller as the engine builds one, slow start from ``initial`` (AIMD's too)."""
    settings.setdefault("initial_limit", initial)
    return InFlightController(
        ceiling,
        clock=clock or FakeClock(),
        aimd_settings=AimdSettings(initial_limit=initial, decrease_factor=0.85),
        settings=InFlightSettings(**settings),
    )


def admitted(ctl: InFlightController, clock: FakeClock, count: int | None, *, mine: int) -> bool:
    """A call sent with ``mine`` in flight, answered one round trip later with ``count``."""
    ticket = ctl.on_start(mine)
    clock.advance(RTT_S)
    return ctl.on_answer(ticket, count)


def refused(
    ctl: InFlightController,
    _clock: FakeClock,
    count: int | None,
    *,
    mine: int,
    **answer: Any,
) -> bool:
    """A call sent with ``mine`` in flight, refused at once with ``count``.

    ``answer`` goes to ``on_throttle`` as it is: ``retry_after_s``, ``in_flight``.
    """
    return ctl.on_throttle(ctl.on_start(mine), count, **answer)


def learnt(limit: int, clock: FakeClock, **overrides: Any) -> InFlightController:
    """A controller that has learnt an account limit of ``limit``, alone, and fills it."""
    ctl = make(clock, **overrides)
    admitted(ctl, clock, limit, mine=limit)
    refused(ctl, clock, limit, mine=limit + 1)
    assert ctl.account_limit == limit
    admitted(ctl, clock, limit - 1, mine=limit - 1)  # a round trip alone: all of it
    assert ctl.limit == limit
    return ctl


# --- before and without the header -----------------------------------------------------


def test_without_the_header_aimd_steers() -> None:
    """Answers without a count leave the run to AIMD: slow start, one per success."""
    clock = FakeClock()
    ctl = make(clock, initial=4)
    for _ in range(4):
        admitted(ctl, clock, None, mine=1)
    assert (ctl.steered, ctl.limit) == (False, 8)
    assert ctl.limit == ctl.aimd.limit


def test_the_first_count_hands_over_and_slow_start_goes_on_until_a_429() -> None:
    """With a count but no 429 yet, each admitted call adds one, up to the ceiling."""
    clock = FakeClock()
    ctl = make(clock, ceiling=20, initial=4)
    for n in range(30):
        admitted(ctl, clock, n % 5, mine=1)
    assert ctl.steered
    assert (ctl.limit, ctl.account_limit, ctl.account_in_flight) == (20, None, 4)


def test_once_steered_answers_without_a_count_change_nothing() -> None:
    """After the header was seen, a bare answer is no news; a bare 429 takes one off."""
    clock = FakeClock()
    ctl = learnt(10, clock)
    assert admitted(ctl, clock, None, mine=5) is False
    assert ctl.limit == 10
    assert refused(ctl, clock, None, mine=10) is True
    assert ctl.limit == 9


# --- learning the account's limit ----------------------------------------------------------


def test_a_429_at_a_count_the_account_admitted_teaches_that_count() -> None:
    """Admitted at 10, refused at 10: the limit is 10, and the window fills it."""
    clock = FakeClock()
    ctl = make(clock)
    admitted(ctl, clock, 10, mine=10)
    assert refused(ctl, clock, 10, mine=11) is True
    assert (ctl.account_limit, ctl.others, ctl.limit) == (10, 0, 10)


def test_a_first_429_above_any_admission_teaches_one_less_until_more_is_admitted() -> None:
    """Refused at 10 with 7 the most admitted: 9, until an answer shows 10 admitted."""
    clock = FakeClock()
    ctl = make(clock)
    admitted(ctl, clock, 7, mine=7)
    refused(ctl, clock, 10, mine=11)
    assert (ctl.account_limit, ctl.limit) == (9, 9)
    admitted(ctl, clock, 10, mine=10)
    assert (ctl.account_limit, ctl.limit) == (10, 10)


def test_a_429_that_counts_itself_is_learnt_one_lower_and_stays() -> None:
    """If Twilio counted the refused call too (11 on a limit of 10), the limit is still 10."""
    clock = FakeClock()
    ctl = make(clock, share_every_ticks=1000)

    def full_round_trips() -> None:
        for _ in range(6):
            admitted(ctl, clock, min(ctl.limit, 10), mine=min(ctl.limit, 10))

    for _ in range(5):
        full_round_trips()
        refused(ctl, clock, 11, mine=11)
        assert ctl.account_limit == 10
    full_round_trips()
    assert ctl.limit == 10


def test_a_429_above_the_learnt_limit_teaches_nothing_but_makes_room() -> None:
    """Others jumping to 4 over a full limit of 12: limit still 12, window 8 at once."""
    clock = FakeClock()
    ctl = learnt(12, clock)
    assert refused(ctl, clock, 4 + 11, mine=12) is True
    assert (ctl.account_limit, ctl.others, ctl.limit) == (12, 4, 8)


def test_an_answer_older_than_the_latest_429_does_not_undo_it() -> None:
    """A call sent before others jumped says they are gone: old news, the window stays."""
    clock = FakeClock()
    ctl = learnt(12, clock)
    early = ctl.on_start(12)
    clock.advance(0.01)
    refused(ctl, clock, 15, mine=12)
    clock.advance(RTT_S)
    assert ctl.on_answer(early, 12) is False
    assert (ctl.others, ctl.limit) == (4, 8)


def test_after_the_probe_interval_it_tries_one_more_and_a_429_puts_it_back() -> None:
    """10 s held at a limit of 10: it tries 11; refused at 10 again, the limit is 10."""
    clock = FakeClock()
    ctl = learnt(10, clock, probe_interval_s=10.0)
    clock.advance(10.0)
    admitted(ctl, clock, 10, mine=10)
    assert (ctl.account_limit, ctl.limit) == (11, 11)
    refused(ctl, clock, 10, mine=11)
    assert (ctl.account_limit, ctl.limit) == (10, 10)


def test_retry_after_spaces_the_probes() -> None:
    """A probe costs its row the Retry-After: with Retry-After 5 s, probes wait 50 s."""
    clock = FakeClock()
    ctl = learnt(10, clock, probe_interval_s=10.0)
    refused(ctl, clock, 10, mine=11, retry_after_s=5.0)
    clock.advance(20.0)
    admitted(ctl, clock, 10, mine=10)
    assert ctl.account_limit == 10
    clock.advance(30.0)
    admitted(ctl, clock, 10, mine=10)
    assert ctl.account_limit == 11


# --- the window -------------------------------------------------------------------------


def test_alone_it_takes_the_whole_limit_and_leaves_one_slot_one_tick_in_ten() -> None:
    """With nobody else, the window is the limit, but one round trip in ten one fewer."""
    clock = FakeClock()
    ctl = learnt(10, clock, share_every_ticks=10)
    windows = []
    for _ in range(40):
        admitted(ctl, clock, ctl.limit, mine=ctl.limit)
        windows.append(ctl.limit)
    assert windows.count(9) == 4
    assert windows.count(10) == 36


def test_an_answer_admitted_above_the_learnt_limit_raises_it() -> None:
    """The account let a call in at 14: its limit is at least 14."""
    clock = FakeClock()
    ctl = learnt(12, clock)
    admitted(ctl, clock, 14, mine=12)
    assert (ctl.account_limit, ctl.others) == (14, 2)
    assert ctl.limit <= 14 - 2


def test_the_window_is_the_limit_less_the_others() -> None:
    """Others counted at 4 on a limit of 12: 8; others gone for ``others_ticks`` round trips: 12.

    The room comes back half at once, then a slot a round trip (8, 10, 11, 12):
    if the others only paused, they find most of their slots still free.
    """
    clock = FakeClock()
    ctl = learnt(12, clock, others_ticks=2)
    admitted(ctl, clock, 12, mine=8)  # the account full, 4 of it others
    assert (ctl.others, ctl.limit) == (4, 8)
    for _ in range(2):  # the 429's round trip, then one more: a dip is not a departure
        admitted(ctl, clock, 8, mine=8)
        assert ctl.others == 4
        assert ctl.limit <= 8
    windows = []
    for _ in range(3):
        admitted(ctl, clock, ctl.limit, mine=ctl.limit)
        windows.append(ctl.limit)
    assert ctl.others == 0
    assert windows == [10, 11, 12]


def test_a_429_our_calls_could_not_fill_holds_the_larger_share_then_it_creeps() -> None:
    """Full at 10 with 5 of ours there: others the counts never show. Keep 5, then creep.

    The other run's calls reach Twilio after ours, so every answer of ours counts
    only ours (``H == mine``). Without the hold the window would take the room
    back in a few round trips and knock again; with it, 5 for ``hold_ticks``,
    then one more a round trip.
    """
    clock = FakeClock()
    ctl = learnt(10, clock, hold_ticks=6, share_every_ticks=1000)
    assert refused(ctl, clock, 10, mine=6, in_flight=5) is True
    assert ctl.limit == 5
    windows = []
    for _ in range(10):
        admitted(ctl, clock, ctl.limit, mine=ctl.limit)
        windows.append(ctl.limit)
    assert windows == [5, 5, 5, 5, 5, 6, 7, 8, 9, 10]


def test_answers_that_show_the_crowd_end_the_hold_it_set() -> None:
    """As above, but an answer then counts the 5 others: they are seen, not hidden.

    The cap leaves them room already; once they leave, the window takes the room
    back half at a time instead of waiting out ``hold_ticks`` and creeping.
    """
    clock = FakeClock()
    ctl = learnt(10, clock, hold_ticks=6, share_every_ticks=1000)
    assert refused(ctl, clock, 10, mine=6, in_flight=5) is True
    assert ctl.limit == 5
    admitted(ctl, clock, 10, mine=5)  # 5 of ours and the 5 others
    windows = []
    for _ in range(8):
        admitted(ctl, clock, ctl.limit, mine=ctl.limit)
        windows.append(ctl.limit)
    assert windows[-1] == 10
    assert windows.index(10) <= 5  # held, it would still be at 5 for a round trip more


def test_a_burst_of_others_that_leaves_gives_a_lone_run_its_window_back_within_16_round_trips() -> (
    None
):
    """Others fill an account of 50 at once: cut to the 2 still in flight, not held, back fast.

    The 429 showed 48 others, far more than this run's share: it holds the
    smaller share, so nothing holds it back once they are gone; the room comes
    back a quarter at a time (half when the others are seen to leave).
    """
    clock = FakeClock()
    ctl = learnt(50, clock, share_every_ticks=1000, initial=50)
    ctl.on_throttle(ctl.on_start(3), 50, in_flight=2)
    assert ctl.limit == 2
    trips = 0
    while ctl.limit < 50 and trips < 100:
        admitted(ctl, clock, ctl.limit, mine=ctl.limit)
        trips += 1
    assert trips <= 16


def test_a_429_at_a_full_account_does_not_refill_the_refused_calls_slot() -> None:
    """Two calls sent into a full account: the window ends at what is still in flight.

    Each refused call hands its slot back, but the account has no room for it:
    the window shrinks to the calls still in flight (here 4, then 3, as answers
    came in meanwhile) instead of sending a retry straight into the next 429,
    and the next one, each cutting one (the cascade seen over real sockets).
    """
    clock = FakeClock()
    ctl = learnt(10, clock, share_every_ticks=1000)
    tickets = [ctl.on_start(7), ctl.on_start(8)]
    clock.advance(0.002)
    assert ctl.on_throttle(tickets[0], 10, in_flight=4) is True
    assert ctl.limit == 4
    ctl.on_throttle(tickets[1], 10, in_flight=3)  # sent with the first: an echo of it
    assert ctl.limit == 3
    assert ctl.account_limit == 10


def test_our_own_overshoot_is_not_held() -> None:
    """A 429 our own calls explain (``H <= mine``) takes one off and grows back next tick."""
    clock = FakeClock()
    ctl = learnt(10, clock, share_every_ticks=1000)
    refused(ctl, clock, 10, mine=11, in_flight=9)
    assert ctl.limit == 9
    admitted(ctl, clock, 9, mine=9)
    assert ctl.limit == 10


def test_others_rising_shrink_the_window_at_once() -> None:
    """Within a round trip, an answer showing more others cuts the window then and there."""
    clock = FakeClock()
    ctl = learnt(10, clock)
    admitted(ctl, clock, 10, mine=10)  # a round trip: a tick
    ticket = ctl.on_start(10)
    assert ctl.on_answer(ticket, 10) is False  # the same instant: no tick, nothing moved
    ticket = ctl.on_start(7)
    assert ctl.on_answer(ticket, 10) is True  # 3 others: 7 left
    assert ctl.limit == 7


def test_the_smaller_share_takes_room_at_once() -> None:
    """Holding 3 against 7 others that drop to 5: room for 2, it takes half on the next tick."""
    clock = FakeClock()
    ctl = learnt(10, clock, patience_ticks=2, others_ticks=1)
    refused(ctl, clock, 10, mine=4)  # 7 others leave it 3
    assert ctl.limit == 3
    moves = [admitted(ctl, clock, 5 + 3, mine=3) for _ in range(2)]  # a round trip of 5
    assert moves == [False, True]
    assert ctl.limit == 4


def test_the_larger_share_waits_its_turn_for_room() -> None:
    """Holding 5 against 5 others that drop to 3: seen a tick late, then two ticks' patience."""
    clock = FakeClock()
    ctl = learnt(10, clock, patience_ticks=2, others_ticks=1)
    admitted(ctl, clock, 10, mine=5)  # 5 others leave it 5
    moves = [admitted(ctl, clock, 3 + 5, mine=5) for _ in range(4)]
    assert moves == [False, False, False, True]
    assert ctl.limit == 6


def test_a_share_two_larger_gives_one_back_and_gives_half_as_often_when_nobody_takes_it() -> None:
    """Holding 8 against 4 others that never grow: a slot back, retaken, then rarer gifts."""
    clock = FakeClock()
    ctl = learnt(12, clock, patience_ticks=1, share_every_ticks=1000)
    admitted(ctl, clock, 12, mine=8)  # others 4: window 8
    gifts = []
    for tick in range(200):
        before = ctl.limit
        admitted(ctl, clock, 4 + ctl.limit, mine=ctl.limit)
        if ctl.limit < before:
            gifts.append(tick)
    assert gifts[0] == 0
    gaps = [b - a for a, b in itertools.pairwise(gifts)]
    assert gaps == sorted(gaps)
    assert gaps[-1] >= 4 * gaps[0]
    assert ctl.limit in (7, 8)


def test_a_gift_the_others_take_is_given_again() -> None:
    """Holding 7 against 3, the others grow into each slot given back: 5 and 5."""
    clock = FakeClock()
    ctl = learnt(10, clock, share_every_ticks=1000)
    refused(ctl, clock, 10, mine=8)  # others 3: window 7
    others = 3
    for _ in range(20):
        if ctl.limit + others < 10:
            others += 1  # the other run takes the room
        admitted(ctl, clock, others + ctl.limit, mine=ctl.limit)
    assert (ctl.limit, others) == (5, 5)


# --- no room at all ------------------------------------------------------------------------


def test_no_room_at_all_knocks_then_pauses_doubling_and_an_admission_ends_it() -> None:
    """Others hold the whole limit: window 1, 20 ms pauses for 2 s, then doubling."""
    clock = FakeClock()
    ctl = learnt(10, clock, pause_initial_s=0.02, knock_s=2.0, pause_cap_s=30.0)
    pauses = []
    while clock.now < 4.0:
        refused(ctl, clock, 10, mine=1)
        pauses.append(ctl.pause_remaining_s())
        clock.advance(pauses[-1])
    assert ctl.limit == 1
    knocks = [p for p in pauses if p == pytest.approx(0.02)]
    assert 95 <= len(knocks) <= 101
    later = pauses[len(knocks) :]
    assert later == pytest.approx([0.02 * 2.0**n for n in range(1, len(later) + 1)])
    admitted(ctl, clock, 10, mine=1)
    refused(ctl, clock, 10, mine=1)
    assert ctl.pause_remaining_s() == pytest.approx(0.02)


def test_with_room_a_429_pauses_nobody() -> None:
    """A 429 where the run itself overshot leaves room for the others: no pause."""
    clock = FakeClock()
    ctl = learnt(10, clock)
    refused(ctl, clock, 10, mine=11)
    assert ctl.pause_remaining_s() == 0.0


# --- paced starts ------------------------------------------------------------------------


def test_slow_start_is_not_paced() -> None:
    """Before the first 429 the limit is unknown: calls start as fast as the window lets them."""
    clock = FakeClock()
    ctl = make(clock, initial=4)
    for mine in range(1, 9):
        admitted(ctl, clock, mine, mine=mine)
    assert ctl.limit > 4
    assert ctl.pace_s == 0.0


def test_once_the_limit_is_known_starts_are_a_round_trip_over_the_window_times_the_ratio() -> None:
    """Alone at a learnt limit of 10 with 40 ms round trips: a start every 40 / (10 × 1.2) ms."""
    clock = FakeClock()
    ctl = learnt(10, clock)
    assert ctl.pace_s == pytest.approx(RTT_S / (10 * 1.2))


def test_the_pace_follows_the_window() -> None:
    """Others take half the account: the window halves, and starts are twice as far apart."""
    clock = FakeClock()
    ctl = learnt(10, clock)
    admitted(ctl, clock, 10, mine=5)
    assert ctl.limit == 5
    assert ctl.pace_s == pytest.approx(RTT_S / (5 * 1.2))


def test_a_spacing_finer_than_min_pace_s_is_not_enforced() -> None:
    """3.3 ms between starts is below a 10 ms floor: not paced at all."""
    clock = FakeClock()
    ctl = learnt(10, clock, min_pace_s=0.01)
    assert ctl.pace_s == 0.0


# --- bounds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_the_window_stays_between_floor_and_ceiling(seed: int) -> None:
    """Any script of counts, 429s and bare answers keeps floor <= limit <= ceiling."""
    rng = random.Random(seed)
    clock = FakeClock()
    floor, ceiling = rng.randint(1, 3), rng.randint(3, 30)
    ctl = make(clock, ceiling=ceiling, initial=rng.randint(1, 40), floor=floor)
    for _ in range(3000):
        clock.advance(rng.uniform(0.0, 0.05))
        count = None if rng.random() < 0.05 else rng.randint(0, 40)
        mine = rng.randint(1, 40)
        if rng.random() < 0.3:
            refused(ctl, clock, count, mine=mine, retry_after_s=rng.choice([None, 1.0]))
        else:
            admitted(ctl, clock, count, mine=mine)
        assert floor <= ctl.limit <= ceiling
        assert ctl.account_limit is None or ctl.account_limit >= floor


@pytest.mark.parametrize(
    "overrides",
    [
        {"floor": 0},
        {"share_every_ticks": 0},
        {"patience_ticks": -1},
        {"knock_s": -1.0},
        {"probe_interval_s": 0.0},
        {"pause_initial_s": 5.0, "pause_cap_s": 1.0},
        {"rtt_weight": 0.0},
        {"others_ticks": 0},
        {"initial_limit": 0},
        {"pacing_ratio": 0.5},
        {"pacing_ratio": float("nan")},
        {"min_pace_s": -0.001},
    ],
)
def test_bad_settings_are_refused_by_name(overrides: dict[str, Any]) -> None:
    """Each impossible setting raises ValueError naming it."""
    with pytest.raises(ValueError, match=next(iter(overrides))):
        InFlightSettings(**overrides)


def test_a_ceiling_below_the_floor_is_refused() -> None:
    """The ceiling (--concurrency) must leave room for the floor."""
    with pytest.raises(ValueError, match="ceiling"):
        InFlightController(1, clock=FakeClock(), settings=InFlightSettings(floor=2))
