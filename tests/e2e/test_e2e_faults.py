"""Injected 500s, 503s, dropped connections and stalls: retried, and the world ends right."""

from __future__ import annotations

import errno
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_support import SHORT_CODE, fast_config, fetch_stats, run_job, service_of, write_job
from support import mg, sc

from bulkops.journal import ResultJournal
from bulkops.model import ItemResult
from bulkops.sandbox import LoadProfile, Sandbox, World

ROWS = 40
SERVICES = [mg(1), mg(2)]


def plan_and_world(rows: int = ROWS) -> tuple[dict[str, str], World]:
    """``rows`` short codes to attach round-robin to SERVICES, and a world holding them loose."""
    plan = {sc(i): SERVICES[i % len(SERVICES)] for i in range(1, rows + 1)}
    world = World()
    world.seed(service_sids=SERVICES, short_code_sids=plan)
    return plan, world


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fault", "profile"),
    [
        ("500", {"fail_500_p": 0.25}),
        ("503", {"fail_503_p": 0.25}),
        ("drop", {"drop_p": 0.25}),
    ],
)
async def test_faults_are_retried_until_every_row_succeeds(
    tmp_path: Path, results: Path, fault: str, profile: dict[str, Any]
) -> None:
    """A fault answered before any handler ran costs exactly one retry, and changes nothing."""
    plan, world = plan_and_world()
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    async with Sandbox(world=world, load=LoadProfile(seed=7, **profile)) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url))
        stats = await fetch_stats(sb)
        placed = {sender: service_of(sb, sender) for sender in plan}

    assert sorted(r["line"] for r in run.records) == list(range(2, ROWS + 2))
    assert {(r["outcome"], r["detail"]) for r in run.records} == {("succeeded", "attached")}
    assert placed == plan
    assert stats["faults"][fault] > 0
    assert any(r["attempts"] > 1 for r in run.records)
    posts = stats["by_method"]["POST"]
    assert sum(r["attempts"] for r in run.records) == posts  # every attach made is recorded
    # Each retry had a fault; faults on the pre-flight read and read-backs cost GETs.
    assert 0 < posts - ROWS <= stats["faults"][fault] <= posts - ROWS + stats["by_method"]["GET"]
    assert stats["by_status"]["201"] == ROWS
    assert all(r["throttled"] == 0 for r in run.records)


@pytest.mark.asyncio
async def test_stalled_calls_time_out_and_are_retried(tmp_path: Path, results: Path) -> None:
    """Calls the sandbox holds past the client's timeout are retried; every sender lands.

    A stalled attach is still handled when its stall ends, so its retry may meet
    21710, which counts as success.
    """
    plan, world = plan_and_world(20)
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    load = LoadProfile(stall_p=0.2, stall_s=1.0, seed=3)
    async with Sandbox(world=world, load=load) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, timeout_s=0.3))
        stats = await fetch_stats(sb)
        placed = {sender: service_of(sb, sender) for sender in plan}

    assert sorted(r["line"] for r in run.records) == list(range(2, 22))
    assert {r["outcome"] for r in run.records} == {"succeeded"}
    assert {r["detail"] for r in run.records} <= {"attached", "already_attached"}
    assert placed == plan
    assert stats["faults"]["stall"] > 0
    posts = stats["by_method"]["POST"]
    assert sum(r["attempts"] for r in run.records) == posts
    assert 0 < posts - 20 <= stats["faults"]["stall"] <= posts - 20 + stats["by_method"]["GET"]


#: The op, whether the short code starts attached, and the record its retry must produce.
STALLED_LATE = [
    pytest.param("attach", False, ("succeeded", "already_attached", 409, 21710), id="attach"),
    pytest.param("detach", True, ("succeeded", "not_attached", 404, 20404), id="detach"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("op", "starts_attached", "expected"), STALLED_LATE)
async def test_a_stalled_call_that_lands_late_reads_as_done(
    tmp_path: Path,
    results: Path,
    op: str,
    starts_attached: bool,
    expected: tuple[str, str, int, int],
) -> None:
    """A call stalls past the timeout but lands; its retry finds the change made: succeeded.

    The seed makes the sandbox's first fault draw (the pre-flight read) clear, its
    second (the row's first call) a stall and the rest clear. Timeline: stall until
    1.0 s, client gives up at 0.5 s, retries at about 1.3 s (the backoff's jitter is
    pinned to its ceiling), after the stalled call landed. The first call has half a
    second to reach the sandbox: with 0.15 s, one full-suite run in about ten on this
    machine timed it out before it got there, and the stall fell on the retry.
    """
    plan, world = plan_and_world(1)
    ((sender, service),) = plan.items()
    if starts_attached:
        world.attach(service, SHORT_CODE, sender)
    job = write_job(tmp_path / "job.csv", [(op, service, sender)])
    load = LoadProfile(stall_p=0.5, stall_s=1.0, seed=only_the_second_draw_stalls(0.5))
    async with Sandbox(world=world, load=load) as sb:
        config = fast_config(
            sb.base_url, concurrency=1, timeout_s=0.5, backoff_initial_s=0.8, backoff_cap_s=0.8
        )
        run = await run_job(sb, job, results, config, rand=lambda: 1.0)
        stats = await fetch_stats(sb)
        placed = service_of(sb, sender)

    (record,) = run.records
    outcome, detail, status, code = expected
    assert (record["outcome"], record["detail"]) == (outcome, detail)
    assert (record["http_status"], record["twilio_code"]) == (status, code)
    assert record["attempts"] == 2
    assert stats["faults"]["stall"] == 1
    assert placed == (service if op == "attach" else None)


def only_the_second_draw_stalls(p: float) -> int:
    """A seed whose second of six ``random()`` draws falls under ``p`` (a stall), no other."""
    for seed in range(10_000):
        rng = random.Random(seed)
        if [rng.random() < p for _ in range(6)] == [False, True, False, False, False, False]:
            return seed
    raise AssertionError("no such seed")


# --- Faults of our own: the disk, and bugs ----------------------------------------------


def record_raising(error: Exception) -> Callable[[ResultJournal, ItemResult], None]:
    """A ResultJournal.record that fails with ``error``, as a full disk would."""

    def record(journal: ResultJournal, result: ItemResult) -> None:
        raise error

    return record


@pytest.mark.asyncio
async def test_a_disk_error_inside_the_engine_stops_the_run_in_its_own_words(
    tmp_path: Path, results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError raised in the engine's task groups is the run's reason, not "ExceptionGroup"."""
    plan, world = plan_and_world(3)
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    full = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(ResultJournal, "record", record_raising(full))
    async with Sandbox(world=world) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=1))

    assert run.aborted == "OSError: [Errno 28] No space left on device"


@pytest.mark.asyncio
async def test_a_bug_inside_the_engine_is_raised_with_its_traceback(
    tmp_path: Path, results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other exception from the engine's task groups leaves run_job: a bug is no abort."""
    plan, world = plan_and_world(3)
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    monkeypatch.setattr(ResultJournal, "record", record_raising(ZeroDivisionError("oops")))
    async with Sandbox(world=world) as sb:
        with pytest.raises(ExceptionGroup) as caught:
            await run_job(sb, job, results, fast_config(sb.base_url, concurrency=1))

    assert caught.group_contains(ZeroDivisionError, match="oops")
