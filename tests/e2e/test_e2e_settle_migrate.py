"""Late writes of migrations and of mistyped services, settled by reading back.

The sandbox holds every write before applying it (and applies it after the client
gave up); the client's timeout is shorter than the hold, so every write of these
runs gets no answer. The read-back then decides what the world is, in both the
row's services for a ``migrate``, and the record says it. Real time: the hold is
real, and the settle period must outlast it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import by_line, fast_config, run_job, write_job
from support import mg, sc

from bulkops.config import RunConfig
from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile, Sandbox, World

ALPHA = SenderKind.ALPHA_SENDER


def held_config(base_url: str) -> RunConfig:
    """Every write outlives the client's timeout; the settle period outlasts the hold."""
    return fast_config(base_url, timeout_s=0.15, max_attempts=2, settle_s=0.6)


def alpha_in(world: World, service_sid: str, text: str = "Acme") -> bool:
    return world.by_number(ALPHA, text, service_sid=service_sid) is not None


@pytest.mark.asyncio
async def test_an_alpha_migrate_found_in_both_services_is_deleted_from_the_source(
    tmp_path: Path, results: Path
) -> None:
    """Created in the target without an answer: read back in both, deleted from the source."""
    world = World()
    world.seed(service_sids=[mg(1), mg(2)])
    world.attach(mg(1), ALPHA, "Acme")
    job = tmp_path / "job.csv"
    job.write_text(
        f"service_sid,sender,op,from_service_sid\n{mg(2)},Acme,migrate,{mg(1)}\n",
        encoding="utf-8",
    )
    async with Sandbox(world=world, load=LoadProfile(hold_writes_s=0.4)) as sb:
        run = await run_job(sb, job, results, held_config(sb.base_url))

    (record,) = run.records
    assert (alpha_in(world, mg(1)), alpha_in(world, mg(2))) == (False, True)
    assert (record["outcome"], record["detail"], record["settled"]) == (
        "succeeded",
        "migrated",
        True,
    )
    assert f"in {mg(1)} and {mg(2)}" in record["message"]
    assert "deleted from the source" in record["message"]
    # Every step the row made, the move's own and settling's: no answer to either.
    assert record["steps"] == ["attach:network", "detach:network"]


@pytest.mark.asyncio
async def test_a_short_code_migrate_found_in_no_service_is_moved_and_never_left_there(
    tmp_path: Path, results: Path
) -> None:
    """Detached without an answer, found in neither service: the move is finished."""
    world = World()
    world.seed(service_sids=[mg(1), mg(2)], short_code_sids=[sc(1)])
    world.attach(mg(1), SenderKind.SHORT_CODE, sc(1))
    job = tmp_path / "job.csv"
    job.write_text(
        f"service_sid,short_code_sid,op,from_service_sid\n{mg(2)},{sc(1)},migrate,{mg(1)}\n",
        encoding="utf-8",
    )
    async with Sandbox(world=world, load=LoadProfile(hold_writes_s=0.4)) as sb:
        run = await run_job(sb, job, results, held_config(sb.base_url))
        placed = world.senders[sc(1)].service_sid

    (record,) = run.records
    assert placed == mg(2)
    assert (record["outcome"], record["detail"], record["settled"]) == (
        "succeeded",
        "migrated",
        True,
    )
    assert f"in neither {mg(1)} nor {mg(2)}" in record["message"]
    assert record["steps"] == ["detach:network", "attach:network", "reattach:network"]
    assert not run.named("bulkops.migrate.rollback_failed")


@pytest.mark.asyncio
async def test_a_migrate_found_in_no_service_before_the_next_row_is_put_back(
    tmp_path: Path, results: Path
) -> None:
    """Not the sender's last row: it goes back to the source (rolled_back), then the next runs."""
    world = World()
    world.seed(service_sids=[mg(1), mg(2)], short_code_sids=[sc(1)])
    world.attach(mg(1), SenderKind.SHORT_CODE, sc(1))
    job = tmp_path / "job.csv"
    job.write_text(
        "service_sid,short_code_sid,op,from_service_sid\n"
        f"{mg(2)},{sc(1)},migrate,{mg(1)}\n{mg(2)},{sc(1)},fetch,\n",
        encoding="utf-8",
    )
    async with Sandbox(world=world, load=LoadProfile(hold_writes_s=0.4)) as sb:
        run = await run_job(sb, job, results, held_config(sb.base_url))
        placed = world.senders[sc(1)].service_sid

    records = by_line(run.records)
    assert placed == mg(1)
    assert (records[2]["outcome"], records[2]["detail"], records[2]["settled"]) == (
        "failed",
        "rolled_back",
        True,
    )
    assert f"put back in {mg(1)}" in records[2]["message"]
    assert (records[3]["outcome"], records[3]["detail"]) == ("failed", "not_found")


@pytest.mark.asyncio
async def test_a_detach_from_a_service_that_does_not_exist_is_service_not_found(
    tmp_path: Path, results: Path
) -> None:
    """A mistyped service SID, the detach unanswered: the read-back's 404 is judged too."""
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=[sc(1)])
    world.attach(mg(1), SenderKind.SHORT_CODE, sc(1))
    job = write_job(tmp_path / "job.csv", [("detach", mg(1), sc(1)), ("detach", mg(9), sc(2))])
    world.seed(short_code_sids=[sc(2)])
    world.attach(mg(1), SenderKind.SHORT_CODE, sc(2))
    async with Sandbox(world=world, load=LoadProfile(hold_writes_s=0.4)) as sb:
        run = await run_job(sb, job, results, held_config(sb.base_url))

    records = by_line(run.records)
    assert (records[3]["outcome"], records[3]["detail"], records[3]["settled"]) == (
        "failed",
        "service_not_found",
        True,
    )
    assert records[3]["http_status"] == 404
    assert world.senders[sc(2)].service_sid == mg(1)  # still there, as the record says
    # The real detach landed, but no answer said so: the record claims what the read showed.
    assert (records[2]["outcome"], records[2]["detail"], records[2]["settled"]) == (
        "succeeded",
        "not_attached",
        True,
    )
    assert records[2]["http_status"] == 404
