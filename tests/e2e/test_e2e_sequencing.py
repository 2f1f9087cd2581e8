"""Rows on one short code: run in file order, repeats not sent, migrations moved or put back."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import (
    SHORT_CODE,
    by_line,
    fast_config,
    fetch_stats,
    run_job,
    service_of,
    write_job,
)
from support import mg, sc

from bulkops.sandbox import LoadProfile, Sandbox, World

MG_A, MG_B, MG_FULL = mg(0xA), mg(0xB), mg(0xF)
SENDERS = 10

#: One short code's life, in file order: (op, service), and the detail each must end with.
#: Out of order, a fetch or detach would meet a 404 instead.
LIFE = [
    (("attach", MG_A), "attached"),
    (("fetch", MG_A), "fetched"),
    (("detach", MG_A), "detached"),
    (("attach", MG_B), "attached"),
    (("fetch", MG_B), "fetched"),
    (("detach", MG_B), "detached"),
]


@pytest.mark.asyncio
async def test_rows_on_one_short_code_run_in_file_order(tmp_path: Path, results: Path) -> None:
    """Interleaved lives of 10 short codes, 8 callers, jittered latency: each life in order."""
    # Step-major order: every sender's step 1, then every sender's step 2, ...
    rows = [(op, service, sc(n)) for (op, service), _ in LIFE for n in range(1, SENDERS + 1)]
    job = write_job(tmp_path / "job.csv", rows)
    world = World()
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(n) for n in range(1, SENDERS + 1)])
    load = LoadProfile(latency_mean_ms=3, latency_jitter_ms=3, seed=5)
    async with Sandbox(world=world, load=load) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=8))
        placed = {n: service_of(sb, sc(n)) for n in range(1, SENDERS + 1)}

    records = by_line(run.records)
    assert len(records) == len(rows)
    for line, (op, service, sender) in enumerate(rows, 2):
        step = (line - 2) // SENDERS
        record = records[line]
        assert (record["op"], record["service_sid"], record["short_code_sid"]) == (
            op,
            service,
            sender,
        )
        assert record["detail"] == LIFE[step][1], f"line {line} ({op} {sender})"
    assert placed == dict.fromkeys(range(1, SENDERS + 1))


@pytest.mark.asyncio
async def test_a_repeated_row_is_skipped_and_not_sent(tmp_path: Path, results: Path) -> None:
    """A row repeating an earlier one is recorded skipped/duplicate and makes no request."""
    rows = [("attach", MG_A, sc(1)), ("attach", MG_B, sc(2)), ("attach", MG_A, sc(1))]
    job = write_job(tmp_path / "job.csv", rows)
    world = World()
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(1), sc(2)])
    async with Sandbox(world=world) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url))
        stats = await fetch_stats(sb)

    records = by_line(run.records)
    assert [records[n]["detail"] for n in (2, 3, 4)] == ["attached", "attached", "duplicate"]
    assert records[4]["outcome"] == "skipped"
    assert stats["requests"] == 2 + 1  # and the pre-flight read


#: Where the short code starts, where the row moves it, and what the record must say:
#: (starts in, from, to), (outcome, detail, steps, ends in).
MIGRATIONS = [
    pytest.param(
        (MG_B, MG_B, MG_A),
        ("succeeded", "migrated", ["detach:204", "attach:201"], MG_A),
        id="moved",
    ),
    pytest.param(
        (None, MG_B, MG_A),
        ("succeeded", "migrated", ["detach:404/20404", "attach:201"], MG_A),
        id="was-in-no-service",
    ),
    pytest.param(
        (MG_A, MG_B, MG_A),
        ("succeeded", "migrated", ["detach:404/20404", "attach:409/21710"], MG_A),
        id="already-moved",
    ),
    pytest.param(
        (MG_B, MG_B, MG_FULL),
        ("failed", "rolled_back", ["detach:204", "attach:412/21714", "reattach:201"], MG_B),
        id="target-full-put-back",
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("setup", "expected"), MIGRATIONS)
async def test_migrate_moves_or_puts_back(
    tmp_path: Path,
    results: Path,
    setup: tuple[str | None, str, str],
    expected: tuple[str, str, list[str], str],
) -> None:
    """A migrate row detaches from the source and attaches to the target, or restores it."""
    starts_in, source, target = setup
    outcome, detail, steps, ends_in = expected
    world = World(max_senders_per_service=1)
    world.seed(service_sids=[MG_A, MG_B, MG_FULL], short_code_sids=[sc(1), sc(9)])
    world.attach(MG_FULL, SHORT_CODE, sc(9))
    if starts_in is not None:
        world.attach(starts_in, SHORT_CODE, sc(1))
    job = tmp_path / "job.csv"
    job.write_text(
        f"op,service_sid,short_code_sid,from_service_sid\nmigrate,{target},{sc(1)},{source}\n",
        encoding="utf-8",
    )
    async with Sandbox(world=world) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url))
        placed = service_of(sb, sc(1))

    (record,) = run.records
    assert (record["outcome"], record["detail"]) == (outcome, detail)
    assert record["steps"] == steps
    assert record["from_service_sid"] == source
    assert placed == ends_in
