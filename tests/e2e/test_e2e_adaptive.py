"""Adaptive throttling over real sockets: told 100 in flight, the account admits 10."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import fast_config, fetch_stats, run_job, write_job
from support import mg, sc

from bulkops.sandbox import LoadProfile, Sandbox, World

ROWS = 1000


@pytest.mark.asyncio
async def test_a_bold_concurrency_settles_under_the_accounts_limit(
    tmp_path: Path, results: Path
) -> None:
    """No Retry-After, limit 10, --concurrency 100: few 429s, window cut, every row done."""
    plan = {sc(i): mg(i % 5) for i in range(ROWS)}
    job = write_job(tmp_path / "job.csv", [("attach", s, c) for c, s in plan.items()])
    world = World()
    world.seed(service_sids=set(plan.values()), short_code_sids=plan)
    load = LoadProfile(max_in_flight=10, latency_mean_ms=10, latency_jitter_ms=2)
    async with Sandbox(world=world, load=load) as sb:
        config = fast_config(sb.base_url, concurrency=100, backoff_initial_s=0.5, backoff_cap_s=30)
        run = await run_job(sb, job, results, config)
        stats = await fetch_stats(sb)

    assert {(r["outcome"], r["detail"]) for r in run.records} == {("succeeded", "attached")}
    assert len(run.records) == ROWS
    assert stats["throttled"] / stats["requests"] < 0.10
    assert sum(r["throttled"] for r in run.records) == stats["throttled"]
    cuts = run.named("bulkops.throttle.decreased")
    assert cuts, "a 429 must shrink the window"
    assert min(e["limit"] for e in cuts) <= 10
    assert max(e["limit"] for e in run.named("bulkops.throttle.increased") + cuts) < 30


@pytest.mark.asyncio
async def test_5xx_do_not_shrink_the_window(tmp_path: Path, results: Path) -> None:
    """A sandbox failing 20 % with 503 but admitting everything: no cut, every row done."""
    plan = {sc(i): mg(1) for i in range(200)}
    job = write_job(tmp_path / "job.csv", [("attach", s, c) for c, s in plan.items()])
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=plan)
    async with Sandbox(world=world, load=LoadProfile(fail_503_p=0.2, seed=3)) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=32))
        stats = await fetch_stats(sb)

    assert stats["faults"]["503"] > 0
    assert run.named("bulkops.throttle.decreased") == []
    assert {r["outcome"] for r in run.records} == {"succeeded"}
