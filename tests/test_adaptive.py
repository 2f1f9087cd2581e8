"""The AIMD controller: unit behaviour on a fake clock, and a simulated throttling server."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import FakeClock

from bulkops.engine.adaptive import AimdController, AimdSettings, Ticket
from bulkops.errors import ApiError, ServerError, ThrottledError
from bulkops.retry import Backoff


def make(clock: FakeClock | None = None, *, ceiling: int = 100, **overrides: Any) -> AimdController:
    """A controller at its ceiling of 100, halving on a 429, first pause 0.5 s."""
    settings: dict[str, Any] = {
        "initial_limit": 100,
        "decrease_factor": 0.5,
        "pause_initial_s": 0.5,
        "pause_cap_s": 30.0,
    }
    settings.update(overrides)
    return AimdController(ceiling, clock=clock or FakeClock(), settings=AimdSettings(**settings))


# --- The simulation ---------------------------------------------------------------------
#
# The engine's loop, in virtual time: a row waits for a slot in the window (FIFO), then
# for the controller's pause, then starts. The server admits at most capacity(t) calls in
# flight, each taking about service_s; any call beyond that is answered 429 at once, and
# an admitted call fails with a 5xx with probability error_share. A failed row sleeps the
# engine's own Backoff and queues again, as the engine does.


@dataclass
class Run:
    """What a simulated run measured."""

    elapsed_s: float = 0.0
    sent: int = 0
    failed: int = 0
    #: When each 429 was answered.
    throttled_at: list[float] = field(default_factory=list)
    #: (time, limit) after every event, in time order.
    limits: list[tuple[float, int]] = field(default_factory=list)

    @property
    def throttled_share(self) -> float:
        return len(self.throttled_at) / self.sent

    def mean_limit(self, start_s: float, end_s: float) -> float:
        """The controller's limit averaged over time between start_s and end_s."""
        total = 0.0
        for (t0, limit), (t1, _) in itertools.pairwise([*self.limits, (end_s, 0)]):
            total += limit * max(0.0, min(t1, end_s) - max(t0, start_s))
        return total / (end_s - start_s)

    def limit_at(self, time_s: float) -> int:
        return [limit for t, limit in self.limits if t <= time_s][-1]


@dataclass(frozen=True)
class Account:
    """The simulated Twilio account: what it admits and how it answers."""

    #: How many calls it admits in flight at time t; any more are answered 429 at once.
    capacity: Callable[[float], int]
    #: About how long an admitted call takes (uniform within ±20%).
    service_s: float = 0.25
    #: The share of admitted calls that fail with a 5xx.
    error_share: float = 0.0


class Simulation:
    """One run of ``rows`` rows with ``workers`` as the ceiling, on virtual time."""

    def __init__(
        self, *, rows: int, workers: int, account: Account, seed: int, settings: AimdSettings
    ) -> None:
        self.clock = FakeClock()
        self.ctl = AimdController(workers, clock=self.clock, settings=settings)
        self.account = account
        self.backoff = Backoff()
        self.rng = random.Random(seed)
        self.events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.order = itertools.count()
        self.run = Run(limits=[(0.0, self.ctl.limit)])
        self.ready: deque[list[int]] = deque()  # each row is [attempts so far]
        self.rows_left = rows
        self.in_flight = 0
        self.busy = 0
        self.wake_at = -1.0
        for _ in range(min(workers, rows)):
            self.take_row()

    def play(self) -> Run:
        """Run every event in time order; returns what the run measured."""
        clock, ctl, run = self.clock, self.ctl, self.run
        self.pump()
        while self.events:
            clock.now, _, action, args = heapq.heappop(self.events)
            action(*args)
            self.pump()
            if ctl.limit != run.limits[-1][1]:
                run.limits.append((clock.now, ctl.limit))
        run.elapsed_s = clock.now
        return run

    def at(self, time_s: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.events, (time_s, next(self.order), action, args))

    def take_row(self) -> None:
        if self.rows_left > 0:
            self.rows_left -= 1
            self.ready.append([0])

    def pump(self) -> None:
        ctl = self.ctl
        while self.ready and self.in_flight < ctl.limit:
            if ctl.pause_remaining_s() > 0:
                if self.wake_at < ctl.paused_until:
                    self.wake_at = ctl.paused_until
                    self.at(ctl.paused_until, self.pump)
                return
            self.start(self.ready.popleft())

    def start(self, row: list[int]) -> None:
        row[0] += 1
        ticket = self.ctl.on_start()
        self.in_flight += 1
        self.run.sent += 1
        now, account = self.clock.now, self.account
        if self.busy < account.capacity(now):
            self.busy += 1
            done = self.fail if self.rng.random() < account.error_share else self.succeed
            self.at(now + account.service_s * self.rng.uniform(0.8, 1.2), done, row, ticket)
        else:
            self.at(now, self.throttle, row, ticket)

    def succeed(self, _row: list[int], ticket: Ticket) -> None:
        self.busy -= 1
        self.in_flight -= 1
        self.ctl.on_success(ticket)
        self.take_row()

    def fail(self, row: list[int], ticket: Ticket) -> None:
        self.busy -= 1
        self.in_flight -= 1
        self.retry(row, ServerError(503, None, "Service Unavailable"))

    def throttle(self, row: list[int], ticket: Ticket) -> None:
        self.in_flight -= 1
        self.run.throttled_at.append(self.clock.now)
        self.ctl.on_throttle(ticket, retry_after_s=None)
        self.retry(row, ThrottledError(429, 20429, "Too Many Requests"))

    def retry(self, row: list[int], error: ApiError) -> None:
        if self.backoff.should_retry(row[0], error):
            delay_s = self.backoff.delay_s(row[0], rand=self.rng.random())
            self.at(self.clock.now + delay_s, self.ready.append, row)
        else:
            self.run.failed += 1
            self.take_row()


#: The settings the engine runs with: AimdSettings' defaults.
ENGINE_TUNING = AimdSettings()


def simulate(
    *,
    rows: int,
    workers: int,
    account: Account,
    seed: int = 1,
    settings: AimdSettings = ENGINE_TUNING,
) -> tuple[Run, AimdController]:
    """Run the simulation (with the engine's tuning unless ``settings`` says otherwise).

    Returns what it measured and the controller as it ended.
    """
    simulation = Simulation(
        rows=rows, workers=workers, account=account, seed=seed, settings=settings
    )
    return simulation.play(), simulation.ctl


# --- Convergence and recovery, simulated ------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_converges_to_the_accounts_hidden_limit(seed: int) -> None:
    """Told 100 against an account admitting 10: limit near 10, few 429s, near-ideal time."""
    rows, admitted, service_s = 3000, 10, 0.25
    account = Account(capacity=lambda _t: admitted, service_s=service_s)
    run, _ = simulate(rows=rows, workers=100, account=account, seed=seed)
    ideal_s = rows / admitted * service_s
    assert run.failed == 0
    assert run.throttled_share < 0.10
    assert run.elapsed_s <= 1.5 * ideal_s
    assert 0.6 * admitted <= run.mean_limit(5.0, run.elapsed_s) <= 1.3 * admitted


def test_climbs_when_the_account_admits_more() -> None:
    """When the account's limit rises from 5 to 20 mid-run, the limit passes 15 within 5 s."""
    run, _ = simulate(rows=4000, workers=100, account=Account(lambda t: 5 if t < 30.0 else 20))
    assert run.limit_at(29.0) <= 10
    assert max(limit for t, limit in run.limits if 30.0 <= t <= 35.0) >= 15


def test_an_account_with_room_keeps_the_ceiling_through_5xx() -> None:
    """With room to spare, slow start reaches the ceiling and 5xx answers never lower it."""
    account = Account(capacity=lambda _t: 1000, error_share=0.2)
    run, ctl = simulate(rows=2000, workers=50, account=account)
    assert run.sent >= 2400  # about one call in five failed and was tried again
    assert run.throttled_at == []
    last_change_s, last_limit = run.limits[-1]
    assert (last_limit, ctl.limit) == (50, 50)
    assert last_change_s < 2.0


def test_a_saturated_account_gets_sparse_probes_not_a_storm() -> None:
    """While another client holds every slot, the pause doubles: a handful of 429s in 20 s.

    Slow start from 4, not the engine's 16: each episode's 429s are a window's worth,
    so a narrow window lets the count show the doubling pause (from 16, the first
    dozen episodes, as the window narrows to 1, add some 55 more).
    """
    account = Account(lambda t: 0 if t < 20.0 else 10)
    run, _ = simulate(
        rows=2000, workers=100, account=account, settings=AimdSettings(initial_limit=4)
    )
    assert len([t for t in run.throttled_at if t < 20.0]) <= 20
    assert run.failed == 0
    assert run.elapsed_s <= 2000 / 10 * 0.25 * 1.5 + 20.0


# --- The controller, unit by unit -------------------------------------------------------


def test_slow_start_doubles_per_round_trip_until_the_ceiling() -> None:
    """Before any 429, each success adds one, so a full window's successes double it."""
    ctl = make(ceiling=20, initial_limit=4)
    for expected in (8, 16, 20):
        for _ in range(ctl.limit):
            ctl.on_success(ctl.on_start())
        assert ctl.limit == expected


def test_additive_increase_adds_one_per_window_of_successes() -> None:
    """After a cut, a window's worth of successes raises the limit by about one."""
    ctl = make(initial_limit=20)
    assert ctl.on_throttle(ctl.on_start()) is True
    assert ctl.limit == 10
    changes = [ctl.on_success(ctl.on_start()) for _ in range(10)]
    assert ctl.limit == 11
    assert changes == [False] * 9 + [True]


def test_a_burst_of_429s_from_one_window_cuts_once() -> None:
    """429s of calls started before a cut are echoes of one episode: one decrease."""
    ctl = make()
    tickets = [ctl.on_start() for _ in range(100)]
    decreased = [ctl.on_throttle(ticket) for ticket in tickets]
    assert decreased.count(True) == 1
    assert ctl.limit == 50
    assert ctl.episodes == 1


def test_a_429_after_the_cut_cuts_again() -> None:
    """A 429 of a call started under the smaller window starts a new episode."""
    ctl = make()
    old = ctl.on_start()
    ctl.on_throttle(ctl.on_start())
    new = ctl.on_start()
    assert ctl.on_throttle(old) is False
    assert ctl.on_throttle(new) is True
    assert ctl.limit == 25


def test_successes_of_calls_started_before_a_cut_do_not_grow_the_limit() -> None:
    """Only calls sent under the current window count as evidence for it."""
    ctl = make(initial_limit=10)
    old = [ctl.on_start() for _ in range(10)]
    ctl.on_throttle(ctl.on_start())
    for ticket in old:
        ctl.on_success(ticket)
    assert ctl.limit == 5


@pytest.mark.parametrize("seed", range(20))
def test_the_limit_stays_between_floor_and_ceiling(seed: int) -> None:
    """Any sequence of outcomes keeps floor <= limit <= ceiling."""
    rng = random.Random(seed)
    clock = FakeClock()
    floor, ceiling = rng.randint(1, 5), rng.randint(5, 40)
    ctl = make(
        clock,
        ceiling=ceiling,
        floor=floor,
        initial_limit=rng.randint(0, 50),
        decrease_factor=rng.uniform(0.1, 0.9),
        increase_step=rng.uniform(0.5, 4.0),
    )
    tickets: list[Ticket] = []
    for _ in range(2000):
        assert floor <= ctl.limit <= ceiling
        clock.advance(rng.uniform(0.0, 0.2))
        if not tickets or rng.random() < 0.4:
            tickets.append(ctl.on_start())
            continue
        ticket = tickets.pop(rng.randrange(len(tickets)))
        outcome = rng.choice([ctl.on_success, ctl.on_success, ctl.on_throttle])
        outcome(ticket)
    assert floor <= ctl.limit <= ceiling


@pytest.mark.parametrize("retry_after_s", [None, 0.1, 2.0, 120.0])
def test_the_pause_is_the_backoff_whatever_retry_after_says(retry_after_s: float | None) -> None:
    """Retry-After is the throttled call's own wait: everyone else pauses only the backoff."""
    clock = FakeClock()
    ctl = make(clock, pause_initial_s=0.5, pause_cap_s=30.0)
    ctl.on_throttle(ctl.on_start(), retry_after_s=retry_after_s)
    assert ctl.pause_remaining_s() == pytest.approx(0.5)
    clock.advance(0.5)
    assert ctl.pause_remaining_s() == 0.0


def test_after_a_retry_after_the_limit_stays_under_the_one_that_drew_it() -> None:
    """With probes costing a Retry-After each, growth stops one short for retry_after_hold_s."""
    clock = FakeClock()
    ctl = make(clock, initial_limit=10, retry_after_hold_s=10.0)
    ctl.on_throttle(ctl.on_start(), retry_after_s=5.0)  # drawn at 10: cut to 5
    for _ in range(200):
        ctl.on_success(ctl.on_start())
    assert ctl.limit == 9
    assert ctl.held_below == 10
    clock.advance(10.0)
    for _ in range(200):
        ctl.on_success(ctl.on_start())
    assert ctl.limit > 10


def test_without_retry_after_nothing_is_held() -> None:
    """A 429 without Retry-After keeps plain AIMD: additive increase past the old limit."""
    ctl = make(initial_limit=10)
    ctl.on_throttle(ctl.on_start())
    for _ in range(200):
        ctl.on_success(ctl.on_start())
    assert ctl.held_below is None
    assert ctl.limit > 10


def test_consecutive_episodes_double_the_pause_and_successes_reset_it() -> None:
    """Each episode without a full window of successes between doubles the pause."""
    clock = FakeClock()
    ctl = make(clock, pause_initial_s=0.5, pause_cap_s=3.0)
    pauses = []
    for _ in range(5):
        ctl.on_throttle(ctl.on_start())
        pauses.append(ctl.pause_remaining_s())
        clock.advance(pauses[-1])
    assert pauses == pytest.approx([0.5, 1.0, 2.0, 3.0, 3.0])
    for _ in range(ctl.limit):
        ctl.on_success(ctl.on_start())
    ctl.on_throttle(ctl.on_start())
    assert ctl.pause_remaining_s() == pytest.approx(0.5)


def test_the_first_pause_is_capped_too() -> None:
    """A first pause longer than the cap waits the cap (a run's backoff cap may be short)."""
    ctl = make(pause_initial_s=5.0, pause_cap_s=1.0)
    ctl.on_throttle(ctl.on_start())
    assert ctl.pause_remaining_s() == pytest.approx(1.0)


def test_a_late_429_changes_nothing() -> None:
    """A 429 of a call started before the cut is an echo: limit, episodes and pause stay."""
    clock = FakeClock()
    ctl = make(clock)
    old = ctl.on_start()
    ctl.on_throttle(ctl.on_start())
    pause_s = ctl.pause_remaining_s()
    assert ctl.on_throttle(old, retry_after_s=5.0) is False
    assert (ctl.limit, ctl.episodes) == (50, 1)
    assert ctl.pause_remaining_s() == pytest.approx(pause_s)
    assert ctl.held_below is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"floor": 0},
        {"ceiling": 2, "floor": 3},
        {"decrease_factor": 1.0},
        {"decrease_factor": 0.0},
        {"increase_step": 0.0},
        {"increase_step": float("nan")},
        {"pause_initial_s": -1.0},
        {"pause_cap_s": -1.0},
        {"retry_after_hold_s": -1.0},
    ],
)
def test_bad_settings_are_refused_by_name(overrides: dict[str, Any]) -> None:
    """Each impossible setting raises ValueError naming it."""
    with pytest.raises(ValueError, match=next(iter(overrides))):
        make(**overrides)
