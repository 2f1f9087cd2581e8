"""The account's requests in flight: Twilio-Concurrent-Requests, other traffic, its schedule."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from sandbox_helpers import MG_A
from support import FakeClock, sc

from bulkops.sandbox import LoadProfile, Stats
from bulkops.sandbox.flags import add_load_arguments, load_profile_from_args, parse_schedule
from bulkops.sandbox.load import LoadGate
from bulkops.sandbox.profile import CONCURRENCY_HEADER


def header(response: object) -> int | None:
    value = response.headers.get(CONCURRENCY_HEADER)  # type: ignore[attr-defined]
    return None if value is None else int(value)


@pytest.mark.asyncio
async def test_every_answer_carries_the_accounts_count(open_api) -> None:
    """201, 404 and 401 answers each say how many requests the account has in flight."""
    async with open_api() as api:
        await api.create(MG_A, sc(1))
        created = header(api.last_response)
        await api.fetch(MG_A, sc(2))  # not attached: 404
        missing = header(api.last_response)
        _, _, refused = await api.call("GET", api.collection(MG_A), headers={})  # no auth: 401
    assert (created, missing, header(refused)) == (1, 1, 1)


@pytest.mark.asyncio
async def test_admitted_answers_count_themselves_and_a_429_the_count_that_left_no_room(
    open_api,
) -> None:
    """Five at once against a limit of 3: admitted ones say 1, 2, 3; the refused say 3."""
    load = LoadProfile(max_in_flight=3, latency_mean_ms=300)
    async with open_api(load=load) as api:
        results = await asyncio.gather(
            *(
                api.call("POST", api.collection(MG_A), data={"ShortCodeSid": sc(n)})
                for n in range(1, 6)
            )
        )
        stats = await api.stats()
    admitted = sorted(header(r) for status, _, r in results if status == 201)
    refused = [header(r) for status, _, r in results if status == 429]
    assert admitted == [1, 2, 3]
    assert refused == [3, 3]
    assert stats["peak_account_in_flight"] == 3


@pytest.mark.asyncio
async def test_other_traffic_counts_against_the_limit_and_in_the_header(open_api) -> None:
    """With 3 of 5 slots held by other traffic, two requests get in and they count from 4."""
    load = LoadProfile(max_in_flight=5, background_in_flight=3, latency_mean_ms=300)
    async with open_api(load=load) as api:
        results = await asyncio.gather(*(api.call("GET", api.collection(MG_A)) for _ in range(4)))
        stats = await api.stats()
    answers = sorted((status, header(response)) for status, _, response in results)
    assert answers == [(200, 4), (200, 5), (429, 5), (429, 5)]
    assert stats["peak_account_in_flight"] == 5
    assert stats["peak_in_flight"] == 2  # the clients' own requests


@pytest.mark.asyncio
async def test_the_header_can_be_left_out(open_api) -> None:
    """``concurrency_header=False`` answers without it, as through a proxy that strips it."""
    async with open_api(load=LoadProfile(concurrency_header=False, max_in_flight=1)) as api:
        await api.create(MG_A, sc(1))
    assert api.last_response is not None
    assert CONCURRENCY_HEADER not in api.last_response.headers


def test_the_schedule_moves_other_traffic_from_the_first_request() -> None:
    """Steps take effect at their times, counted from the first request, and restart on reset."""
    clock = FakeClock(50.0)
    profile = LoadProfile(max_in_flight=12, background_schedule=((0.0, 0), (2.0, 4), (5.0, 0)))
    gate = LoadGate(profile, Stats(clock=clock), clock=clock)
    clock.advance(10.0)  # nothing happens before the first request
    assert gate.admit() is True
    seen = []
    for t_s in (0.0, 1.99, 2.0, 4.5, 5.0, 9.0):
        clock.now = 60.0 + t_s
        seen.append(gate.background_in_flight())
    assert seen == [0, 0, 4, 4, 0, 0]
    gate.restart_schedule()
    clock.now = 100.0
    gate.admit()
    clock.now = 102.5
    assert gate.background_in_flight() == 4


def test_the_limit_counts_other_traffic() -> None:
    """At 4 other requests in flight and a limit of 5, the second admission is refused."""
    gate = LoadGate(LoadProfile(max_in_flight=5, background_in_flight=4), Stats())
    assert gate.admit() is True
    gate._in_flight += 1  # the middleware holds it in flight
    assert gate.admit() is False
    assert gate.account_in_flight == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0:0,2:4,5:0", ((0.0, 0), (2.0, 4), (5.0, 0))), ("1.5:3", ((1.5, 3),))],
)
def test_a_schedule_reads_as_seconds_and_counts(text: str, expected: tuple) -> None:
    """``T:N,…`` gives steps of (seconds, requests in flight)."""
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [("2-4", "not SECONDS:IN_FLIGHT"), ("2:x", "not SECONDS:IN_FLIGHT"),
     ("3:1,2:0", "must increase"), ("1:-2", "must be >= 0")],
)  # fmt: skip
def test_a_bad_schedule_says_what_is_wrong(text: str, words: str) -> None:
    """Each malformed schedule is refused with a message naming the problem."""
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        parse_schedule(text)


def test_the_flags_describe_other_traffic_and_the_header() -> None:
    """The other-traffic flags and --no-concurrency-header reach the profile."""
    parser = argparse.ArgumentParser()
    add_load_arguments(parser)
    args = parser.parse_args(
        [
            "--background-in-flight",
            "2",
            "--background-schedule",
            "0:0,1:3",
            "--no-concurrency-header",
        ]
    )
    profile = load_profile_from_args(args)
    assert profile.background_in_flight == 2
    assert profile.background_schedule == ((0.0, 0), (1.0, 3))
    assert profile.concurrency_header is False
    assert load_profile_from_args(parser.parse_args([])).concurrency_header is True
