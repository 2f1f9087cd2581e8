"""429s from a sandbox that serves few requests at once: retried until every row succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import fast_config, fetch_stats, run_job, service_of, write_job
from support import SkippingClock, mg, sc

from bulkops.sandbox import LoadProfile, Sandbox, World

ROWS = 60
SERVICES = [mg(1), mg(2), mg(3)]


def attach_job(path: Path) -> tuple[Path, dict[str, str]]:
    """A job attaching ROWS short codes round-robin to SERVICES; and who goes where."""
    plan = {sc(i): SERVICES[i % len(SERVICES)] for i in range(1, ROWS + 1)}
    job = write_job(path, [("attach", service, sender) for sender, service in plan.items()])
    return job, plan


def seeded(plan: dict[str, str]) -> World:
    world = World()
    world.seed(service_sids=SERVICES, short_code_sids=plan)
    return world


def throttling(retry_after_s: int | None = None) -> LoadProfile:
    """At most 3 requests served at once, each held 5 ms so that 12 callers collide."""
    return LoadProfile(max_in_flight=3, latency_mean_ms=5, retry_after_s=retry_after_s)


@pytest.mark.asyncio
async def test_throttled_rows_are_retried_until_they_succeed(tmp_path: Path, results: Path) -> None:
    """With 12 callers and room for 3, 429s happen, are counted, and every row succeeds once."""
    job, plan = attach_job(tmp_path / "job.csv")
    async with Sandbox(world=seeded(plan), load=throttling()) as sb:
        config = fast_config(sb.base_url, concurrency=12, max_attempts=100)
        run = await run_job(sb, job, results, config)
        stats = await fetch_stats(sb)
        placed = {sender: service_of(sb, sender) for sender in plan}

    assert sorted(r["line"] for r in run.records) == list(range(2, ROWS + 2))
    assert {(r["outcome"], r["detail"]) for r in run.records} == {("succeeded", "attached")}
    assert placed == plan
    assert stats["throttled"] > 0
    assert stats["by_status"]["429"] == stats["throttled"]
    assert stats["by_status"]["201"] == ROWS
    assert any(r["attempts"] > 1 for r in run.records)
    # Every retry was a 429 here, so the extra attempts are exactly the sandbox's 429s.
    assert sum(r["attempts"] - 1 for r in run.records) == stats["throttled"]
    assert sum(r["throttled"] for r in run.records) == stats["throttled"]
    assert all(r["throttled"] == r["attempts"] - 1 for r in run.records)
    assert stats["peak_in_flight"] <= 3


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("retry_after_s", "expect_floor"),
    [(None, False), (1, True)],
    ids=["no-header", "retry-after-1"],
)
async def test_retry_after_sets_the_wait(
    tmp_path: Path, results: Path, retry_after_s: int | None, expect_floor: bool
) -> None:
    """A 429's ``Retry-After: 1`` makes every retry wait a second or more; without it, jitter.

    The engine's clock is a fake that skips the waits, so no real second passes;
    the waits are read from the ``bulkops.item.retry`` events.
    """
    job, plan = attach_job(tmp_path / "job.csv")
    clock = SkippingClock()
    async with Sandbox(world=seeded(plan), load=throttling(retry_after_s)) as sb:
        config = fast_config(
            sb.base_url, concurrency=12, max_attempts=100, backoff_initial_s=0.01, backoff_cap_s=2.0
        )
        run = await run_job(sb, job, results, config, clock=clock)
        stats = await fetch_stats(sb)

    assert all(r["outcome"] == "succeeded" for r in run.records)
    assert stats["throttled"] > 0
    waits = [event["wait_s"] for event in run.named("bulkops.item.retry")]
    assert len(waits) == stats["throttled"]
    assert all(any(abs(w - c) < 0.001 for c in clock.waits) for w in waits)  # each was slept
    if expect_floor:  # Retry-After is a floor under the jitter
        # The shared pause ends 1 s after the 429; a retry waits what is left of it,
        # less the moments spent since (logging the cut): a little under 1 s when busy.
        assert min(waits) >= 0.9
    else:  # first retries wait under the initial backoff
        assert min(waits) < config.backoff_initial_s
