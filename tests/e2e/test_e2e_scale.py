"""A few thousand rows through 429s and 503s: one right record per row, and the world right."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import SHORT_CODE, fast_config, fetch_stats, run_job, write_job
from support import mg, sc

from bulkops.sandbox import LoadProfile, Sandbox, World

ROWS = 3000
SERVICES = [mg(i) for i in range(1, 9)]  # 375 each, under Twilio's 400 per service


@pytest.mark.asyncio
async def test_thousands_of_rows_under_throttling_and_faults(tmp_path: Path, results: Path) -> None:
    """3,000 attaches with 429s and 503s mixed in all succeed, each recorded exactly once."""
    plan = {sc(i): SERVICES[i % len(SERVICES)] for i in range(1, ROWS + 1)}
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    world = World()
    world.seed(service_sids=SERVICES, short_code_sids=plan)
    load = LoadProfile(max_in_flight=8, latency_mean_ms=2, fail_503_p=0.05, seed=11)
    async with Sandbox(world=world, load=load) as sb:
        run = await run_job(
            sb, job, results, fast_config(sb.base_url, concurrency=32, max_attempts=100)
        )
        stats = await fetch_stats(sb)
        placed = {sid: sender.service_sid for sid, sender in sb.world.senders.items()}
        pools = {service: list(sb.world.pool(service, SHORT_CODE)) for service in SERVICES}

    lines = [r["line"] for r in run.records]
    assert len(lines) == ROWS
    assert set(lines) == set(range(2, ROWS + 2))
    assert all(r["outcome"] == "succeeded" and r["detail"] == "attached" for r in run.records)
    assert all(r["short_code_sid"] == sc(r["line"] - 1) for r in run.records)
    assert placed == plan
    assert {s: len(p) for s, p in pools.items()} == dict.fromkeys(SERVICES, ROWS // 8)
    assert stats["throttled"] > 0
    assert stats["faults"]["503"] > 0
    assert stats["by_status"]["201"] == ROWS
    retries = sum(r["attempts"] - 1 for r in run.records)
    assert retries == stats["throttled"] + stats["faults"]["503"]
    assert sum(r["throttled"] for r in run.records) == stats["throttled"]
