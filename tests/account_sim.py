"""A Twilio account in virtual time, shared by runs that each steer an InFlightController.

The account admits a call while its requests in flight (every run's, plus other
traffic) are fewer than its limit, holds it about ``latency_s`` and answers with
``Twilio-Concurrent-Requests`` (the count when it arrived, itself included); a
call it has no room for is answered 429 at once with the count that left no
room, and ``Retry-After`` if set. Each run starts calls while the controller's
window and pause allow, as the engine does; a throttled row waits its
Retry-After, then queues again. Everything is deterministic for a seed.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from support import FakeClock

from bulkops.engine.adaptive import AimdSettings, Ticket
from bulkops.engine.inflight import InFlightController, InFlightSettings

#: How long a 429 takes to come back, in seconds: Twilio refuses at once.
REFUSAL_S = 0.0005


@dataclass
class Client:
    """One run on the account: its rows, its controller, what it measured."""

    rows: int
    ctl: InFlightController
    start_s: float = 0.0
    in_flight: int = 0
    ready: int = 0
    done: int = 0
    sent: int = 0
    throttled: int = 0
    finished_s: float | None = None
    #: When the account first let one of its calls in.
    first_admitted_s: float | None = None
    #: (time, window) after every change, in time order.
    windows: list[tuple[float, int]] = field(default_factory=list)
    #: This client's network time relative to the account's ``transit_s``.
    transit_scale: float = 1.0


@dataclass
class Account:
    """What the account admits: its limit, other traffic over time, how it answers."""

    limit: int
    latency_s: float = 0.04
    #: Other traffic's requests in flight at time t.
    background: Callable[[float], int] = lambda _t: 0
    retry_after_s: float | None = None
    #: False: answers carry no count (the AIMD fallback steers).
    header: bool = True
    #: One-way network time, client to account and back: a call reaches the account
    #: about ``transit_s`` after it is sent, and its answer the client about
    #: ``transit_s`` after the account let go of it (0: no network at all).
    transit_s: float = 0.0
    #: Each crossing takes ``transit_s`` × the client's ``transit_scale`` ± this share.
    transit_jitter: float = 0.5


class Simulation:
    """Runs several clients against one account until every row is done."""

    def __init__(
        self, account: Account, clients: list[Client], *, clock: FakeClock, seed: int = 1
    ) -> None:
        self.account = account
        self.clients = clients
        self.clock = clock
        self.rng = random.Random(seed)
        self.events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.order = itertools.count()
        self.serving = 0
        #: (time, account's requests in flight incl. other traffic) after every change.
        self.account_level: list[tuple[float, int]] = []
        self.wake_at: dict[int, float] = {}
        for index, client in enumerate(clients):
            client.ready = client.rows
            client.windows.append((client.start_s, client.ctl.limit))
            self.at(client.start_s, self.pump, index)

    def at(self, time_s: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.events, (time_s, next(self.order), action, args))

    def play(self, *, until_s: float = 3600.0) -> Simulation:
        while self.events and self.clock.now <= until_s:
            self.clock.now, _, action, args = heapq.heappop(self.events)
            action(*args)
        return self

    def level(self) -> int:
        return self.serving + self.account.background(self.clock.now)

    def pump(self, index: int) -> None:
        client = self.clients[index]
        ctl = client.ctl
        while client.ready and client.in_flight < ctl.limit:
            pause_s = ctl.pause_remaining_s()
            if pause_s > 0:
                wake = self.clock.now + pause_s
                if self.wake_at.get(index, -1.0) < wake:
                    self.wake_at[index] = wake
                    self.at(wake, self.pump, index)
                return
            client.ready -= 1
            self.start(index)

    def start(self, index: int) -> None:
        client = self.clients[index]
        client.in_flight += 1
        client.sent += 1
        ticket = client.ctl.on_start(client.in_flight)
        if self.account.transit_s:
            self.at(self.clock.now + self.transit_s(index), self.arrive, index, ticket)
        else:
            self.arrive(index, ticket)

    def transit_s(self, index: int) -> float:
        """One crossing of the network for client ``index`` (no draw without a network)."""
        account = self.account
        if not account.transit_s:
            return 0.0
        jitter = account.transit_jitter
        scale = self.clients[index].transit_scale
        return account.transit_s * scale * self.rng.uniform(1 - jitter, 1 + jitter)

    def arrive(self, index: int, ticket: Ticket) -> None:
        """The call reaches the account: admitted and held, or refused at once."""
        account = self.account
        now = self.clock.now
        level = self.level()
        if level < account.limit:
            self.serving += 1
            self.account_level.append((now, self.level()))
            latency_s = account.latency_s * self.rng.uniform(0.9, 1.1)
            if account.transit_s:
                self.at(now + latency_s, self.release, index, ticket, level + 1)
            else:
                self.at(now + latency_s, self.answer, index, ticket, level + 1)
        else:
            self.at(now + REFUSAL_S + self.transit_s(index), self.refuse, index, ticket, level)

    def release(self, index: int, ticket: Ticket, count: int) -> None:
        """The account is done with the call; its answer is on the way."""
        self.serving -= 1
        self.account_level.append((self.clock.now, self.level()))
        self.at(self.clock.now + self.transit_s(index), self.answer, index, ticket, count)

    def answer(self, index: int, ticket: Ticket, count: int) -> None:
        client = self.clients[index]
        if not self.account.transit_s:
            self.serving -= 1
            self.account_level.append((self.clock.now, self.level()))
        client.in_flight -= 1
        client.done += 1
        if client.first_admitted_s is None:
            client.first_admitted_s = self.clock.now
        self.changed(client, client.ctl.on_answer(ticket, self.shown(count)))
        if client.done == client.rows:
            client.finished_s = self.clock.now
        self.pump(index)

    def refuse(self, index: int, ticket: Ticket, count: int) -> None:
        client = self.clients[index]
        client.in_flight -= 1
        client.throttled += 1
        retry_after_s = self.account.retry_after_s
        moved = client.ctl.on_throttle(
            ticket, self.shown(count), retry_after_s, in_flight=client.in_flight
        )
        self.changed(client, moved)
        wait_s = max(retry_after_s or 0.0, client.ctl.pause_remaining_s())
        self.at(self.clock.now + wait_s, self.requeue, index)
        self.pump(index)

    def requeue(self, index: int) -> None:
        self.clients[index].ready += 1
        self.pump(index)

    def shown(self, count: int) -> int | None:
        return count if self.account.header else None

    def changed(self, client: Client, moved: bool) -> None:
        if moved:
            client.windows.append((self.clock.now, client.ctl.limit))

    def mean_level(self, start_s: float, end_s: float) -> float:
        """The account's requests in flight (other traffic included), averaged over time."""
        total = 0.0
        points = [(0.0, 0), *self.account_level, (end_s, 0)]
        for (t0, level), (t1, _) in itertools.pairwise(points):
            total += level * max(0.0, min(t1, end_s) - max(t0, start_s))
        return total / (end_s - start_s)


def controller(
    sim_clock: FakeClock, *, ceiling: int = 100, initial: int = 16, **settings: Any
) -> InFlightController:
    """A controller as the engine builds one (slow start from ``initial``), on ``sim_clock``."""
    return InFlightController(
        ceiling,
        clock=sim_clock,
        aimd_settings=AimdSettings(
            initial_limit=initial, decrease_factor=0.85, pause_initial_s=0.02
        ),
        settings=InFlightSettings(**settings),
    )


def simulate(
    account: Account,
    rows: list[int],
    *,
    seed: int = 1,
    start_s: list[float] | None = None,
    transit_scales: list[float] | None = None,
) -> Simulation:
    """One client per entry of ``rows``, each with an engine-like controller, played to the end."""
    clock = FakeClock()
    starts = start_s or [0.0] * len(rows)
    scales = transit_scales or [1.0] * len(rows)
    clients = [
        Client(n, controller(clock), start_s=s, transit_scale=scale)
        for n, s, scale in zip(rows, starts, scales, strict=True)
    ]
    return Simulation(account, clients, clock=clock, seed=seed).play()


class Told:
    """A client told the account's free slots: a fixed window, 429s retried at once.

    Stands where an :class:`InFlightController` would; the floor a controller
    can approach once the network takes its share of every round trip.
    """

    def __init__(self, window: int, clock: FakeClock) -> None:
        self.limit = window
        self._clock = clock

    def pause_remaining_s(self) -> float:
        return 0.0

    def on_start(self, mine: int) -> Ticket:
        return Ticket(0, self._clock(), mine)

    def on_answer(self, _ticket: Ticket, _count: int | None) -> bool:
        return False

    def on_throttle(self, *_args: Any, **_kwargs: Any) -> bool:
        return False


def told_s(account: Account, rows: int, *, seed: int = 1) -> float:
    """When a client told the limit (a window of exactly ``account.limit``) ends ``rows``."""
    clock = FakeClock()
    client = Client(rows, Told(account.limit, clock))  # type: ignore[arg-type]
    Simulation(account, [client], clock=clock, seed=seed).play()
    assert client.finished_s is not None
    return client.finished_s


def ideal_s(rows: int, account: Account, *, step_s: float = 0.001) -> float:
    """When ``rows`` calls of ``latency_s`` fit the slots other traffic leaves free, integrated."""
    work = rows * account.latency_s
    t = 0.0
    while work > 0:
        work -= max(0, account.limit - account.background(t)) * step_s
        t += step_s
    return t
