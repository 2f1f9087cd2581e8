"""The account's real limit over real sockets: Twilio-Concurrent-Requests, shared accounts.

Each run here talks to a sandbox that sends the header on every answer and
counts other traffic against its limit; two runs share one sandbox the way two
bulkops processes share one account, with nothing between them but the header.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from e2e_support import fast_config, fetch_stats, run_job, write_job
from support import SkippingClock, mg, sc

from bulkops.sandbox import LoadProfile, Sandbox, World


def attach_job(path: Path, first: int, rows: int) -> tuple[Path, dict[str, str]]:
    """``rows`` attaches of short codes numbered from ``first``, 200 to a service."""
    plan = {sc(i): mg(i // 200) for i in range(first, first + rows)}
    return write_job(path, [("attach", s, c) for c, s in plan.items()]), plan


def seeded(*plans: dict[str, str]) -> World:
    world = World()
    for plan in plans:
        world.seed(service_sids=set(plan.values()), short_code_sids=plan)
    return world


def trace(results: Path) -> list[dict[str, Any]]:
    """The run's limit over time from its summary JSON, one dict per point."""
    doc = json.loads(results.with_name(results.stem + ".summary.json").read_text())
    columns = doc["concurrency"]["columns"]
    return [dict(zip(columns, point, strict=True)) for point in doc["concurrency"]["points"]]


@pytest.mark.asyncio
async def test_a_run_learns_the_accounts_limit_and_sits_at_it(
    tmp_path: Path, results: Path
) -> None:
    """--concurrency 100 on an account of 10: limit learnt, account never over it, few 429s."""
    job, plan = attach_job(tmp_path / "job.csv", 0, 600)
    load = LoadProfile(max_in_flight=10, latency_mean_ms=10, latency_jitter_ms=2)
    async with Sandbox(world=seeded(plan), load=load) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=100))
        stats = await fetch_stats(sb)

    assert {(r["outcome"], r["detail"]) for r in run.records} == {("succeeded", "attached")}
    assert len(run.records) == 600
    assert stats["peak_account_in_flight"] == 10
    assert stats["throttled"] / stats["requests"] < 0.05
    points = trace(results)
    assert points[-1]["account_limit"] == 10
    assert points[-1]["rows"] == 600
    assert points[-1]["throttled"] == stats["throttled"]
    assert max(p["limit"] for p in points if p["account_limit"] is not None) <= 10


@pytest.mark.asyncio
async def test_a_run_makes_room_for_other_traffic_and_takes_it_back(
    tmp_path: Path, results: Path
) -> None:
    """Other traffic at 4 of 12 slots for 0.7 s: the window holds 8 or less, then 12."""
    job, plan = attach_job(tmp_path / "job.csv", 0, 1200)
    load = LoadProfile(
        max_in_flight=12, latency_mean_ms=10, background_schedule=((0.0, 0), (0.3, 4), (1.0, 0))
    )
    async with Sandbox(world=seeded(plan), load=load) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=50))
        stats = await fetch_stats(sb)

    assert {r["outcome"] for r in run.records} == {"succeeded"}
    assert stats["throttled"] / stats["requests"] < 0.05
    points = trace(results)
    crowded = [p for p in points if p["account_in_flight"] is not None and p["t_s"] > 0.2]
    assert any(p["limit"] <= 8 for p in crowded), "never made room for the other traffic"
    last_crowded = max(p["t_s"] for p in crowded if p["limit"] <= 8)
    assert any(p["limit"] == 12 for p in points if p["t_s"] > last_crowded)


@pytest.mark.asyncio
async def test_retry_after_holds_only_the_refused_rows(tmp_path: Path, results: Path) -> None:
    """Retry-After 5 on every 429: each refused row waits 5 s; the 429s stay few."""
    job, plan = attach_job(tmp_path / "job.csv", 0, 300)
    load = LoadProfile(max_in_flight=10, latency_mean_ms=10, retry_after_s=5)
    clock = SkippingClock()
    async with Sandbox(world=seeded(plan), load=load) as sb:
        config = fast_config(sb.base_url, concurrency=100, backoff_cap_s=30.0)
        run = await run_job(sb, job, results, config, clock=clock)
        stats = await fetch_stats(sb)

    assert {r["outcome"] for r in run.records} == {"succeeded"}
    waits = [event["wait_s"] for event in run.named("bulkops.item.retry")]
    assert len(waits) == stats["throttled"] > 0
    assert min(waits) >= 5.0
    assert stats["throttled"] <= 0.05 * stats["requests"]


@pytest.mark.asyncio
async def test_two_runs_share_one_account_through_the_header_alone(
    tmp_path: Path, results: Path
) -> None:
    """Two runs at --concurrency 100 on one account of 10: both learn it, both get in, all done."""
    job_a, plan_a = attach_job(tmp_path / "a.csv", 0, 600)
    job_b, plan_b = attach_job(tmp_path / "b.csv", 1000, 600)
    results_b = tmp_path / "b.jsonl"
    load = LoadProfile(max_in_flight=10, latency_mean_ms=10, latency_jitter_ms=2)
    async with Sandbox(world=seeded(plan_a, plan_b), load=load) as sb:
        config = fast_config(sb.base_url, concurrency=100)
        run_a, run_b = await asyncio.gather(
            run_job(sb, job_a, results, config), run_job(sb, job_b, results_b, config)
        )
        stats = await fetch_stats(sb)

    assert {r["outcome"] for r in run_a.records + run_b.records} == {"succeeded"}
    assert stats["by_status"]["201"] == 1200
    assert stats["peak_account_in_flight"] == 10
    assert stats["throttled"] / stats["requests"] < 0.10
    for points in (trace(results), trace(results_b)):
        assert points[-1]["account_limit"] == 10
    # Neither waited for the other: each finished rows while the other was still running.
    finished = [sorted(r["finished_at"] for r in run.records) for run in (run_a, run_b)]
    assert finished[0][0] < finished[1][-1]
    assert finished[1][0] < finished[0][-1]


@pytest.mark.asyncio
async def test_without_the_header_aimd_finds_the_limit(tmp_path: Path, results: Path) -> None:
    """A sandbox that sends no count: the AIMD fallback cuts on 429s, every row done."""
    job, plan = attach_job(tmp_path / "job.csv", 0, 400)
    load = LoadProfile(max_in_flight=10, latency_mean_ms=10, concurrency_header=False)
    async with Sandbox(world=seeded(plan), load=load) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=100))
        stats = await fetch_stats(sb)

    assert {r["outcome"] for r in run.records} == {"succeeded"}
    assert run.named("bulkops.throttle.decreased")
    assert stats["throttled"] / stats["requests"] < 0.10
    points = trace(results)
    assert {p["account_limit"] for p in points} == {None}
    assert {p["account_in_flight"] for p in points} == {None}
