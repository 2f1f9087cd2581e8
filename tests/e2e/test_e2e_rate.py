"""The rate limit holds over real sockets, as the sandbox counts arrivals."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import fast_config, fetch_stats, run_job, write_job
from support import mg, sc

from bulkops.sandbox import Sandbox, World

RATE = 40
ROWS = 60  # 1.5 s at RATE: the one test that spends real time on purpose


@pytest.mark.asyncio
async def test_no_one_second_window_sees_more_than_the_rate(tmp_path: Path, results: Path) -> None:
    """At --rate 40, the sandbox never sees more than 40 (+0.5 %, +1) requests in any second."""
    plan = {sc(i): mg(1) for i in range(1, ROWS + 1)}
    job = write_job(tmp_path / "job.csv", [("attach", mg_, sc_) for sc_, mg_ in plan.items()])
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=plan)
    async with Sandbox(world=world) as sb:
        config = fast_config(sb.base_url, concurrency=8, rate_per_s=RATE)
        run = await run_job(sb, job, results, config)
        stats = await fetch_stats(sb)

    assert [r["outcome"] for r in run.records] == ["succeeded"] * ROWS
    assert stats["by_method"]["POST"] == ROWS
    assert stats["peak_per_second"] <= RATE * 1.005 + 1
    # The first full second shows the limit is reached, not just respected by going slow.
    assert stats["per_second"]["requests"][0] >= RATE * 0.5
