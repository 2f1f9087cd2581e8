"""Throttling, latency and injected faults: configured by LoadProfile, off by default."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sandbox_helpers import MG_A, Api
from support import FakeClock, sc

from bulkops.sandbox import LoadProfile, Sandbox, Stats, World
from bulkops.sandbox.load import LoadGate


def attached(world: World) -> set[str]:
    return {s.sid for s in world.senders.values() if s.service_sid is not None}


@pytest.mark.asyncio
async def test_over_max_in_flight_is_429_20429_and_changes_nothing(open_api, world) -> None:
    """Requests beyond max_in_flight answer 429/20429 at once, without Retry-After or effect."""
    load = LoadProfile(max_in_flight=2, latency_mean_ms=200)
    async with open_api(load=load) as api:
        results = await asyncio.gather(
            *(
                api.call("POST", api.collection(MG_A), data={"ShortCodeSid": sc(n)})
                for n in range(1, 6)
            )
        )
    statuses = [status for status, _, _ in results]
    assert sorted(statuses) == [201, 201, 429, 429, 429]
    for status, body, response in results:
        if status == 429:
            assert body == {
                "code": 20429,
                "message": "Too Many Requests",
                "more_info": "https://www.twilio.com/docs/errors/20429",
                "status": 429,
            }
            assert "Retry-After" not in response.headers
    admitted = {sc(n) for n, status in zip(range(1, 6), statuses, strict=True) if status == 201}
    assert attached(world) == admitted


@pytest.mark.asyncio
async def test_retry_after_is_sent_only_when_configured(open_api) -> None:
    """With retry_after_s set, every 429 carries Retry-After in whole seconds."""
    load = LoadProfile(max_in_flight=1, latency_mean_ms=150, retry_after_s=3)
    async with open_api(load=load) as api:
        results = await asyncio.gather(*(api.call("GET", api.collection(MG_A)) for _ in range(3)))
    throttled = [response for status, _, response in results if status == 429]
    assert len(throttled) == 2
    assert all(response.headers["Retry-After"] == "3" for response in throttled)


@pytest.mark.asyncio
async def test_over_max_per_second_is_429(open_api) -> None:
    """Past max_per_second requests in one second, requests answer 429."""
    async with open_api(load=LoadProfile(max_per_second=3)) as api:
        statuses = [(await api.page(MG_A))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_per_second_window_slides() -> None:
    """The per-second limit counts admissions in the last second, not per calendar second."""
    clock = FakeClock(100.0)
    gate = LoadGate(LoadProfile(max_per_second=2), Stats(), clock=clock)
    assert [gate.admit(), gate.admit(), gate.admit()] == [True, True, False]
    clock.now = 100.5
    assert gate.admit() is False
    clock.now = 101.01
    assert [gate.admit(), gate.admit(), gate.admit()] == [True, True, False]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("load", "status", "code"),
    [(LoadProfile(fail_500_p=1.0), 500, 20500), (LoadProfile(fail_503_p=1.0), 503, 20503)],
)
async def test_server_errors_change_nothing(open_api, world, load, status, code) -> None:
    """With probability 1, every request answers 500/20500 (or 503/20503) and changes nothing."""
    async with open_api(load=load) as api:
        result = await api.create(MG_A, sc(1))
        stats = await api.stats()
    assert (result[0], result[1]["code"], result[1]["status"]) == (status, code, status)
    assert attached(world) == set()
    assert stats["faults"][str(status)] == 1


@pytest.mark.asyncio
async def test_dropped_connection_is_a_client_connection_error(open_api, world) -> None:
    """A dropped request reaches the client as ServerDisconnectedError and changes nothing."""
    async with open_api(load=LoadProfile(drop_p=1.0)) as api:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.create(MG_A, sc(1))
        stats = await api.stats()
    assert attached(world) == set()
    assert stats["faults"]["drop"] == 1
    assert stats["by_status"] == {}


@pytest.mark.asyncio
async def test_stall_outlasts_a_client_timeout_and_shutdown_drops_it(world: World) -> None:
    """A stalled request times the client out; stopping the sandbox drops it, unhandled.

    The stall (30 s) ends well before the stop would give up waiting on it (an
    hour): a stop that waited for the stall instead of releasing it would see the
    request handled, and the short code attached.
    """
    load = LoadProfile(stall_p=1.0, stall_s=30.0)
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with (
        Sandbox(world=world, load=load, shutdown_timeout_s=3600.0) as sandbox,
        aiohttp.ClientSession(timeout=timeout) as session,
    ):
        api = Api(session, sandbox)
        with pytest.raises(TimeoutError):
            await api.create(MG_A, sc(1))
        assert (await api.stats())["faults"]["stall"] == 1
    assert attached(world) == set()
    assert sandbox.stats.by_status == {}  # dropped: never answered
    assert sandbox.stats.in_flight == 0


@pytest.mark.asyncio
async def test_a_short_stall_is_then_handled(open_api, world) -> None:
    """After stall_s the stalled request is handled normally (like a slow real request)."""
    async with open_api(load=LoadProfile(stall_p=1.0, stall_s=0.05)) as api:
        status, _ = await api.create(MG_A, sc(1))
        stats = await api.stats()
    assert status == 201
    assert stats["faults"]["stall"] == 1
    assert stats["by_status"] == {"201": 1}
    assert attached(world) == {sc(1)}


@pytest.mark.asyncio
async def test_latency_delays_answers() -> None:
    """Before each answer the gate waits latency_mean_ms, give or take latency_jitter_ms."""
    clock = FakeClock()
    load = LoadProfile(latency_mean_ms=80, latency_jitter_ms=10, seed=3)
    gate = LoadGate(load, Stats(), clock=clock, sleep=clock.sleep)

    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=200)

    statuses = [
        (await gate.middleware(make_mocked_request("GET", "/v1/Services"), handler)).status
        for _ in range(20)
    ]
    assert statuses == [200] * 20
    assert len(clock.waits) == 20
    assert all(0.07 <= wait <= 0.09 for wait in clock.waits)
    assert max(clock.waits) - min(clock.waits) > 0.005  # the jitter varies them


@pytest.mark.asyncio
async def test_seeded_faults_are_reproducible(open_api) -> None:
    """The same seed gives the same sequence of faults; another seed a different one."""

    async def statuses(seed: int) -> list[int]:
        load = LoadProfile(fail_500_p=0.3, fail_503_p=0.3, seed=seed)
        async with open_api(load=load) as api:
            return [(await api.page(MG_A))[0] for _ in range(30)]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again
    assert {200, 500, 503} <= set(first)
    assert first != other


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"max_per_second": -1}, "max_per_second"),
        ({"retry_after_s": -1}, "retry_after_s"),
        ({"latency_mean_ms": -1.0}, "latency_mean_ms"),
        ({"fail_500_p": 1.5}, "fail_500_p"),
        ({"drop_p": -0.1}, "drop_p"),
        ({"fail_500_p": 0.6, "fail_503_p": 0.6}, "add up to 1.2"),
        ({"stall_s": 0}, "stall_s"),
        ({"stall_s": float("nan")}, "stall_s"),
        ({"latency_jitter_ms": float("inf")}, "latency_jitter_ms"),
    ],
)
def test_load_profile_rejects_nonsense(kwargs: dict, match: str) -> None:
    """Out-of-range settings fail early, naming the setting."""
    with pytest.raises(ValueError, match=match):
        LoadProfile(**kwargs)


def test_load_profile_is_off_by_default() -> None:
    """The default profile throttles nothing and injects nothing."""
    profile = LoadProfile()
    assert (profile.max_in_flight, profile.max_per_second, profile.retry_after_s) == (None,) * 3
    assert profile.fail_500_p == profile.fail_503_p == profile.drop_p == profile.stall_p == 0
    assert profile.stall_s == 120.0
