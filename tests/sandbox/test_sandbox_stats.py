"""The stats endpoint and the Stats counters behind it."""

from __future__ import annotations

import asyncio

import pytest
from sandbox_helpers import MG_A
from support import FakeClock, sc

from bulkops.sandbox import Fault, LoadProfile, Stats


@pytest.mark.asyncio
async def test_stats_count_requests_by_status_and_method(api) -> None:
    """Each API request is counted once by method and by status; stats calls are not."""
    await api.create(MG_A, sc(1))
    await api.create(MG_A, sc(1))
    await api.fetch(MG_A, sc(1))
    await api.delete(MG_A, sc(1))
    await api.page(MG_A, PageSize=0)
    stats = await api.stats()
    assert stats["requests"] == 5
    assert stats["by_method"] == {"DELETE": 1, "GET": 2, "POST": 2}
    assert stats["by_status"] == {"200": 1, "201": 1, "204": 1, "400": 1, "409": 1}
    assert stats["throttled"] == 0
    assert stats["faults"] == {"500": 0, "503": 0, "drop": 0, "stall": 0}
    assert stats["in_flight"] == 0
    assert stats["peak_in_flight"] == 1
    assert sum(stats["per_second"]["requests"]) == 5
    assert stats["world"] == {"services": 2, "senders": 10, "attached": 0}


@pytest.mark.asyncio
async def test_stats_count_throttling_and_peak_in_flight(open_api) -> None:
    """429s appear as throttled, in by_status and in the per-second 429 timeline."""
    async with open_api(load=LoadProfile(max_in_flight=3, latency_mean_ms=150)) as api:
        await asyncio.gather(*(api.page(MG_A) for _ in range(5)))
        stats = await api.stats()
    assert stats["throttled"] == 2
    assert stats["by_status"] == {"200": 3, "429": 2}
    assert stats["peak_in_flight"] == 3
    assert stats["peak_per_second"] == 5
    assert sum(stats["per_second"]["throttled"]) == 2


@pytest.mark.asyncio
async def test_stats_reset(api) -> None:
    """POST /sandbox/stats/reset zeroes the counters."""
    await api.page(MG_A)
    status, body, _ = await api.call("POST", f"{api.base_url}/sandbox/stats/reset", headers={})
    assert status == 200
    assert body["requests"] == 0
    assert (await api.stats())["by_status"] == {}


def test_timeline_buckets_requests_by_whole_second() -> None:
    """per_second lists arrivals (and 429s) in each second since start, idle seconds as 0."""
    clock = FakeClock(1000.0)
    stats = Stats(clock=clock)
    for at in (0.1, 0.5, 2.2, 2.3, 2.9):
        clock.now = 1000.0 + at
        second = stats.arrived("GET")
    stats.throttle(second)
    clock.now = 1003.5
    doc = stats.snapshot()
    assert doc["per_second"]["requests"] == [2, 0, 3, 0]
    assert doc["per_second"]["throttled"] == [0, 0, 1, 0]
    assert doc["throttled"] == 1


def test_peak_per_second_is_a_sliding_window() -> None:
    """Arrivals straddling a whole second still count together within any one-second span."""
    clock = FakeClock(1000.0)
    stats = Stats(clock=clock)
    for at in (0.6, 0.7, 0.8, 1.1, 1.2, 1.65):
        clock.now = 1000.0 + at
        stats.arrived("POST")
    assert stats.snapshot()["per_second"]["requests"] == [3, 3]
    assert stats.snapshot()["peak_per_second"] == 5


def test_faults_and_in_flight() -> None:
    """Faults count by kind; peak_in_flight keeps the highest concurrency."""
    stats = Stats(clock=FakeClock(1000.0))
    stats.fault(Fault.DROP)
    stats.fault(Fault.ERROR_503)
    stats.began()
    stats.began()
    stats.ended()
    doc = stats.snapshot()
    assert doc["faults"] == {"500": 0, "503": 1, "drop": 1, "stall": 0}
    assert (doc["in_flight"], doc["peak_in_flight"]) == (1, 2)
