"""A write that timed out is applied later: the run reads it back instead of guessing.

The issue's case: attach then detach one short code, a server that holds every
write before applying it (and applies it even after the client gave up), a
client timeout shorter than the hold. The clock is the real one: the sandbox's
hold is real time, and the settle period must outlast it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import by_line, fast_config, run_job, service_of, write_job
from support import mg, sc

from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile, Sandbox, World


@pytest.mark.asyncio
async def test_a_late_attach_never_overtakes_the_detach_after_it(
    tmp_path: Path, results: Path
) -> None:
    """Both rows are settled by reading back; the short code ends where the job leaves it."""
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=[sc(1)])
    job = write_job(tmp_path / "job.csv", [("attach", mg(1), sc(1)), ("detach", mg(1), sc(1))])
    load = LoadProfile(hold_writes_s=0.4)
    async with Sandbox(world=world, load=load) as sb:
        config = fast_config(sb.base_url, timeout_s=0.15, max_attempts=2, settle_s=0.6)
        run = await run_job(sb, job, results, config)
        placed = service_of(sb, sc(1))

    records = by_line(run.records)
    assert placed is None  # detached, as the job's last row leaves it
    assert (records[2]["outcome"], records[2]["detail"]) == ("succeeded", "attached")
    # The read shows it not attached; it cannot show whose detach did it.
    assert (records[3]["outcome"], records[3]["detail"]) == ("succeeded", "not_attached")
    assert records[2]["settled"] is True
    assert records[3]["settled"] is True
    assert "read back after the settle period" in records[2]["message"]
    # The detach ran only after the attach was read back attached:
    assert run.records[0]["line"] == 2


@pytest.mark.asyncio
async def test_a_pre_flight_read_that_never_gets_an_answer_stops_the_run(
    tmp_path: Path, results: Path
) -> None:
    """Every connection dropped: the pre-flight read is retried, then the run stops unrecorded."""
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=[sc(1)])
    job = write_job(tmp_path / "job.csv", [("attach", mg(1), sc(1))])
    async with Sandbox(world=world, load=LoadProfile(drop_p=1.0)) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, max_attempts=2))
    # The pre-flight read is dropped too: a dropped read is retried, then it stops.
    assert run.records == []
    assert run.aborted is not None
    assert "the connection was lost" in run.aborted


@pytest.mark.asyncio
async def test_late_writes_of_every_kind_are_settled_by_reading_back(
    tmp_path: Path, results: Path
) -> None:
    """Issue 11's case for issue 10's kinds: a phone number named by E.164 (resolved to its
    SID first) and an alpha sender named by its text, each attached then detached, every
    write held past the client's timeout. Both end detached; every record is settled."""
    world = World()
    world.add_service(mg(1))
    (phone_sid,) = world.seed_senders(SenderKind.PHONE_NUMBER, ["+14155550100"])
    job = tmp_path / "job.csv"
    job.write_text(
        "service_sid,sender,op\n"
        f"{mg(1)},+14155550100,attach\n{mg(1)},Acme,attach\n"
        f"{mg(1)},+14155550100,detach\n{mg(1)},Acme,detach\n",
        encoding="utf-8",
    )
    async with Sandbox(world=world, load=LoadProfile(hold_writes_s=0.4)) as sb:
        config = fast_config(sb.base_url, timeout_s=0.15, max_attempts=2, settle_s=0.6)
        run = await run_job(sb, job, results, config)
        routes = dict(sb.stats.by_route)

    records = by_line(run.records)
    assert {line: (r["outcome"], r["detail"]) for line, r in records.items()} == {
        2: ("succeeded", "attached"),
        3: ("succeeded", "attached"),
        4: ("succeeded", "not_attached"),
        5: ("succeeded", "not_attached"),
    }
    assert all(r["settled"] for r in records.values())
    assert records[2]["sender_sid"] == phone_sid
    assert records[3]["sender_sid"].startswith("AI")  # found by listing the service again
    assert not [s for s in world.senders.values() if s.service_sid is not None]
    assert routes["GET /v1/Services/{Sid}"] == 1  # the pre-flight read
