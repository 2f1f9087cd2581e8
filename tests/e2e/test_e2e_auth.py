"""Wrong credentials stop the run at the first 401, and the secret shows up nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import fast_config, fetch_stats, file_text, run_job, write_job
from support import mg, sc

from bulkops.sandbox import LoadProfile, Sandbox, World

ROWS = 200
WRONG = "wrong-token-3f9a7c1e5b"


@pytest.mark.asyncio
@pytest.mark.parametrize("concurrency", [1, 4, 16])
async def test_a_401_aborts_the_run_after_at_most_one_call_per_worker(
    tmp_path: Path, results: Path, concurrency: int
) -> None:
    """Only the calls already in flight reach the sandbox; the run stops, no secret is written."""
    plan = {sc(i): mg(1) for i in range(1, ROWS + 1)}
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=plan)
    async with Sandbox(world=world, load=LoadProfile(latency_mean_ms=2)) as sb:
        config = fast_config(sb.base_url, concurrency=concurrency)
        run = await run_job(sb, job, results, config, password=WRONG)
        stats = await fetch_stats(sb)

    assert run.aborted is not None
    assert "401" in run.aborted
    assert 1 <= stats["requests"] <= concurrency
    assert set(stats["by_status"]) == {"401"}  # calls cut short by the abort have none
    assert run.records == []  # a row stopped by the abort is not recorded: a resume runs it
    assert world.summary()["attached"] == 0
    assert WRONG not in run.log
    assert WRONG not in file_text(results)
    assert WRONG not in run.aborted
