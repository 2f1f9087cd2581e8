"""Rows that fail validation are recorded as invalid and never reach the network."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import by_line, fast_config, fetch_stats, run_job, write_job
from support import mg, sc

from bulkops.sandbox import Sandbox, World

MG_A = mg(0xA)

#: (op, service, sender), and a word the invalid record's message must contain.
ROWS: list[tuple[tuple[str, str, str], str | None]] = [
    (("attach", MG_A, sc(1)), None),
    (("attach", "MG123", sc(2)), "service_sid"),
    (("attach", MG_A, "SCnothex" + "z" * 26), "short_code_sid"),
    (("frobnicate", MG_A, sc(3)), "unknown op"),
    (("fetch", MG_A, sc(1)), None),
    (("", MG_A, sc(4)), "missing op"),
    (("detach", "", sc(5)), "missing service_sid"),
    (("detach", MG_A, sc(6)), None),
    (("attach", MG_A, ""), "missing short_code_sid"),
]
VALID = sum(1 for _, problem in ROWS if problem is None)


@pytest.mark.asyncio
async def test_invalid_rows_are_recorded_and_never_sent(tmp_path: Path, results: Path) -> None:
    """Each bad row gets one invalid record naming its problem; only valid rows are requested."""
    job = write_job(tmp_path / "job.csv", [row for row, _ in ROWS])
    world = World()
    world.seed(service_sids=[MG_A], short_code_sids=[sc(i) for i in range(1, 7)])
    async with Sandbox(world=world) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url))
        stats = await fetch_stats(sb)

    records = by_line(run.records)
    assert sorted(records) == list(range(2, 2 + len(ROWS)))
    for line, ((op, service, sender), problem) in enumerate(ROWS, 2):
        record = records[line]
        got = (record["op"], record["service_sid"], record["short_code_sid"])
        assert got == (op, service, sender), f"line {line}"
        if problem is None:
            assert record["outcome"] == "succeeded", f"line {line}"
            continue
        assert (record["outcome"], record["detail"]) == ("invalid", "invalid_row"), f"line {line}"
        assert problem in record["message"], f"line {line}: {record['message']}"
        assert record["attempts"] == 0
        assert record["http_status"] is None
    assert stats["requests"] == VALID + 1  # and the pre-flight read
