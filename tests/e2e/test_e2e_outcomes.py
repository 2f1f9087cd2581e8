"""Every Twilio answer the sandbox gives becomes the right record, over real sockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import SHORT_CODE, by_line, fast_config, fetch_stats, run_job, write_job
from support import mg, sc

from bulkops.sandbox import Sandbox, World

MG_A, MG_B, MG_FULL = mg(0xA), mg(0xB), mg(0xF)
SC_UNKNOWN = sc(0xFFFF)  # well-formed, not on the account
POOL = 4  # senders a service may hold in this world

#: Row, then what its record must say: (op, service, sender), (outcome, detail, http, code).
CASES: list[tuple[tuple[str, str, str], tuple[str, str, int, int | None]]] = [
    (("attach", MG_A, sc(1)), ("succeeded", "attached", 201, None)),
    (("attach", MG_A, sc(2)), ("succeeded", "already_attached", 409, 21710)),
    (("attach", MG_A, sc(3)), ("failed", "attached_elsewhere", 409, 21712)),
    (("attach", MG_FULL, sc(4)), ("failed", "pool_full", 412, 21714)),
    (("attach", MG_A, SC_UNKNOWN), ("failed", "rejected", 400, 80303)),
    (("detach", MG_A, sc(5)), ("succeeded", "detached", 204, None)),
    (("detach", MG_A, sc(6)), ("succeeded", "not_attached", 404, 20404)),
    (("fetch", MG_A, sc(7)), ("succeeded", "fetched", 200, None)),
    (("fetch", MG_A, sc(8)), ("failed", "not_found", 404, 20404)),
]


def outcome_world() -> World:
    """A world where each row of CASES meets the state its answer needs.

    A holds 2, 5 and 7 (one slot free for 1); B holds 3; FULL holds its POOL
    senders 10..13; 4, 6 and 8 are on the account in no service.
    """
    world = World(max_senders_per_service=POOL)
    world.seed(service_sids=[MG_A, MG_B, MG_FULL], short_code_sids=[sc(i) for i in range(1, 14)])
    for service, sender in [(MG_A, 2), (MG_A, 5), (MG_A, 7), (MG_B, 3)]:
        world.attach(service, SHORT_CODE, sc(sender))
    for sender in range(10, 10 + POOL):
        world.attach(MG_FULL, SHORT_CODE, sc(sender))
    return world


@pytest.mark.asyncio
@pytest.mark.parametrize("concurrency", [1, 8])
async def test_each_answer_maps_to_its_outcome(
    tmp_path: Path, results: Path, concurrency: int
) -> None:
    """Each row gets exactly one record, on its own line, with Twilio's status and code mapped."""
    job = write_job(tmp_path / "job.csv", [row for row, _ in CASES])
    async with Sandbox(world=outcome_world()) as sb:
        run = await run_job(sb, job, results, fast_config(sb.base_url, concurrency=concurrency))
        stats = await fetch_stats(sb)

    records = by_line(run.records)
    assert sorted(records) == list(range(2, 2 + len(CASES)))
    for line, ((op, service, sender), (outcome, detail, status, code)) in enumerate(CASES, 2):
        record = records[line]
        got = (record["op"], record["service_sid"], record["short_code_sid"])
        assert got == (op, service, sender), f"line {line}"
        assert (record["outcome"], record["detail"]) == (outcome, detail), f"line {line}"
        assert (record["http_status"], record["twilio_code"]) == (status, code), f"line {line}"
        assert record["attempts"] == 1
    assert stats["requests"] == len(CASES) + 1  # and the pre-flight read


@pytest.mark.asyncio
async def test_fetched_record_carries_the_resource_fields(tmp_path: Path, results: Path) -> None:
    """A fetch record holds the short code, country and capabilities the sandbox returned."""
    world = outcome_world()
    sender = world.senders[sc(7)]
    job = write_job(tmp_path / "job.csv", [("fetch", MG_A, sc(7))])
    async with Sandbox(world=world) as sb:
        (record,) = (await run_job(sb, job, results, fast_config(sb.base_url))).records

    assert record["short_code"] == sender.number
    assert record["country_code"] == "US"
    assert record["capabilities"] == list(sender.capabilities)


@pytest.mark.asyncio
async def test_failures_carry_twilios_message(tmp_path: Path, results: Path) -> None:
    """A refused row's record keeps Twilio's own message; a success has none."""
    job = write_job(tmp_path / "job.csv", [("attach", MG_A, sc(3)), ("attach", MG_A, sc(1))])
    async with Sandbox(world=outcome_world()) as sb:
        records = by_line((await run_job(sb, job, results, fast_config(sb.base_url))).records)

    assert records[2]["message"]
    assert sc(3) in records[2]["message"]
    assert records[3]["message"] is None


@pytest.mark.asyncio
async def test_the_world_ends_as_the_rows_asked(tmp_path: Path, results: Path) -> None:
    """After the run the sandbox holds exactly the changes the succeeded rows made."""
    job = write_job(tmp_path / "job.csv", [row for row, _ in CASES])
    async with Sandbox(world=outcome_world()) as sb:
        await run_job(sb, job, results, fast_config(sb.base_url))
        where: dict[int, Any] = {i: sb.world.senders[sc(i)].service_sid for i in range(1, 14)}

    assert where == {
        1: MG_A,  # attached
        2: MG_A,  # already was
        3: MG_B,  # stays where it was
        4: None,  # pool full
        5: None,  # detached
        6: None,
        7: MG_A,  # fetched, unchanged
        8: None,
        9: None,  # seeded, never named
        **{i: MG_FULL for i in range(10, 10 + POOL)},
    }


@pytest.mark.asyncio
async def test_a_full_service_is_sent_one_attach_not_one_per_worker(
    tmp_path: Path, results: Path
) -> None:
    """30 attaches to a service holding its 400, 4 workers at 10 calls/s: each worker's row
    passed the "known full?" check before waiting for the rate, but it is asked again right
    before sending, so only the attach in flight when the 21714 arrived (one: the next start
    is 0.1 s later, a loopback answer takes milliseconds) reaches the sandbox."""
    world = World()  # the real limit: 400 phone numbers and short codes per service
    world.seed(service_sids=[MG_FULL], short_code_sids=[sc(i) for i in range(430)])
    for i in range(400):
        world.attach(MG_FULL, SHORT_CODE, sc(i))
    job = write_job(tmp_path / "job.csv", [("attach", MG_FULL, sc(i)) for i in range(400, 430)])
    async with Sandbox(world=world) as sb:
        config = fast_config(sb.base_url, concurrency=4, rate_per_s=10.0)
        run = await run_job(sb, job, results, config)
        stats = await fetch_stats(sb)

    assert stats["by_status"]["412"] == 1
    assert {(r["outcome"], r["detail"], r["twilio_code"]) for r in run.records} == {
        ("failed", "pool_full", 21714)
    }
    assert sorted(r["attempts"] for r in run.records) == [0] * 29 + [1]
