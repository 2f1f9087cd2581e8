"""The rate gate and the concurrency window, on virtual time."""

from __future__ import annotations

import asyncio

import pytest
from support import run_virtual

from bulkops.engine.limits import ConcurrencyWindow, RateGate, StartSpacing, bucket_size


@pytest.mark.parametrize("rate", [1, 25, 99, 100, 1000, 5000])
def test_bucket_keeps_any_window_within_the_promise(rate: float) -> None:
    """A bucket of b lets at most b + rate calls start in one second: within rate·1.005 + 1."""
    assert 1 <= bucket_size(rate) <= rate * 0.005 + 1


async def _starts(gate: RateGate, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def worker() -> None:
        while len(starts) < n:
            await gate.acquire()
            starts.append(loop.time())

    async with asyncio.TaskGroup() as group:
        for _ in range(8):
            group.create_task(worker())
    return sorted(starts)[:n]  # workers already waiting when n was reached add a few


def test_rate_gate_spaces_starts_from_the_first_call() -> None:
    """At 10/s, 30 starts take about 3 s: no start-up burst."""
    starts = run_virtual(_starts(RateGate(10), 30))
    assert sum(1 for t in starts if t < 1.0) <= 11
    assert 2.8 <= max(starts) - min(starts) <= 3.1


def test_rate_zero_means_no_limit() -> None:
    """With rate 0 every acquisition passes at once."""
    starts = run_virtual(_starts(RateGate(0), 100))
    assert max(starts) < 0.01


async def _hold(window: ConcurrencyWindow, peak: list[int], seconds: float) -> None:
    async with window:
        peak.append(window.in_flight)
        await asyncio.sleep(seconds)


def test_window_bounds_holders_and_retune_down_takes_effect_for_new_entries() -> None:
    """Lowering the limit lets holders finish but admits no more than the new limit."""

    async def main() -> list[int]:
        window = ConcurrencyWindow(8)
        seen: list[int] = []
        asyncio.get_running_loop().call_later(0.5, window.retune, 2)
        async with asyncio.TaskGroup() as group:
            for _ in range(40):
                group.create_task(_hold(window, seen, 1.0))
        return seen

    seen = run_virtual(main())
    assert max(seen[:8]) == 8
    assert max(seen[8:]) <= 2


def test_window_retune_up_wakes_waiters_at_once() -> None:
    """Raising the limit admits waiting tasks without waiting for a holder to leave."""

    async def main() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        window = ConcurrencyWindow(1)
        seen: list[int] = []
        loop.call_later(0.1, window.retune, 5)
        async with asyncio.TaskGroup() as group:
            for _ in range(5):
                group.create_task(_hold(window, seen, 10.0))
        return max(seen), loop.time()

    peak, finished = run_virtual(main())
    assert peak == 5
    assert finished < 10.5


def test_window_serves_waiters_first_come_first_served() -> None:
    """A task arriving while others wait queues behind them, even when a slot just freed."""

    async def main() -> list[str]:
        window = ConcurrencyWindow(1)
        order: list[str] = []

        async def take(name: str) -> None:
            async with window:
                order.append(name)
                await asyncio.sleep(0.1)

        async with window:
            waiting = asyncio.create_task(take("waited"))
            await asyncio.sleep(0)
        # The holder left and comes straight back, as a worker does for its next row.
        await take("came back")
        await waiting
        return order

    assert run_virtual(main()) == ["waited", "came back"]


def test_a_freed_slot_goes_to_work_before_the_task_that_freed_it_goes_on() -> None:
    """The waiter handed a slot runs at once: the slot is not idle during the row's bookkeeping."""

    async def main() -> list[str]:
        window = ConcurrencyWindow(1)
        order: list[str] = []

        async def wait_for_slot() -> None:
            async with window:
                order.append("waiter starts its call")

        async with window:
            waiting = asyncio.create_task(wait_for_slot())
            await asyncio.sleep(0)
        order.append("releaser does its bookkeeping")
        await waiting
        return order

    assert run_virtual(main()) == ["waiter starts its call", "releaser does its bookkeeping"]


def test_window_cancelled_waiter_passes_its_turn_on() -> None:
    """A waiter cancelled after being handed a slot does not swallow it: the next one gets it."""

    async def main() -> bool:
        window = ConcurrencyWindow(1)
        async with window:
            first = asyncio.create_task(window.__aenter__())
            second = asyncio.create_task(window.__aenter__())
            await asyncio.sleep(0)
            window.retune(2)  # hands the free slot to ``first``...
            first.cancel()  # ...which is cancelled before it could run
            await asyncio.sleep(0.01)
            entered = second.done() and not second.cancelled()
        if entered:
            await window.__aexit__(None, None, None)
        return entered and window.in_flight == 0

    assert run_virtual(main())


def test_start_spacing_spaces_callers_that_ask_at_once_and_lets_a_late_one_go() -> None:
    """Three asking at 0 s, 0.1 s apart, wait 0, 0.1 and 0.2 s; one asking at 5 s waits none.

    The interval may change between callers: the next start follows the last one taken.
    """
    spacing = StartSpacing()
    assert [spacing.wait_s(0.0, 0.1) for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    assert spacing.wait_s(0.0, 0.5) == pytest.approx(0.3)
    assert spacing.next_s == pytest.approx(0.8)
    assert spacing.wait_s(5.0, 0.1) == 0.0
    assert spacing.next_s == pytest.approx(5.1)
