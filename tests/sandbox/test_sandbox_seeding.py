"""Seeding from a job of any kind and naming: numbers get SIDs, SIDs get numbers, all staged."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from sandbox_helpers import ALPHA_SENDER, MG_A, MG_B, PHONE_NUMBER, SHORT_CODE, pn
from support import sc

from bulkops.jobs import open_job
from bulkops.model import Op
from bulkops.sandbox import World
from bulkops.sandbox.cli import build_world
from bulkops.sandbox.flags import add_sandbox_arguments
from bulkops.sandbox.seeding import seed_from_job

MIXED = (
    "service_sid,sender,op,from_service_sid\n"
    f"{MG_A},+14155550100,attach,\n"
    f"{MG_A},12345,detach,\n"
    f"{MG_A},{sc(1)},attach,\n"
    f"{MG_A},{pn(2)},migrate,{MG_B}\n"
    f"{MG_A},My Brand,migrate,{MG_B}\n"
    f"{MG_B},Other,detach,\n"
    f"{MG_A},Bad!,attach,\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def seeded(tmp_path: Path, text: str = MIXED, *, stage: bool = False) -> tuple[World, int, int]:
    world = World()
    job = open_job(write(tmp_path / "job.csv", text), default_op=Op.FETCH)
    used, skipped = seed_from_job(world, job, stage=stage)
    return world, used, skipped


def test_every_kind_and_naming_is_seeded(tmp_path: Path) -> None:
    """Numbers get SIDs, SIDs get numbers, alpha text needs nothing; invalid rows are skipped."""
    world, used, skipped = seeded(tmp_path)
    assert (used, skipped) == (6, 1)
    assert set(world.services) == {MG_A, MG_B}
    phone = world.by_number(PHONE_NUMBER, "+14155550100")
    short = world.by_number(SHORT_CODE, "12345")
    assert phone is not None
    assert short is not None
    assert PHONE_NUMBER.sid_pattern.fullmatch(phone.sid)
    assert SHORT_CODE.sid_pattern.fullmatch(short.sid)
    assert SHORT_CODE.spec.number_pattern.fullmatch(world.senders[sc(1)].number)
    assert PHONE_NUMBER.spec.number_pattern.fullmatch(world.senders[pn(2)].number)
    assert {s.kind for s in world.senders.values()} == {PHONE_NUMBER, SHORT_CODE}
    assert world.summary()["attached"] == 0


def test_seeding_twice_gives_the_same_world(tmp_path: Path) -> None:
    """Seeding is deterministic: the same job makes the same SIDs and numbers."""
    first, _, _ = seeded(tmp_path)
    second, _, _ = seeded(tmp_path)
    numbers = {sid: s.number for sid, s in first.senders.items()}
    assert numbers == {sid: s.number for sid, s in second.senders.items()}


def test_staging_puts_each_sender_where_the_job_expects_it(tmp_path: Path) -> None:
    """Detach rows find their sender in the service, migrate rows in the source; attach rows
    find it in none."""
    world, _, _ = seeded(tmp_path, stage=True)
    short = world.by_number(SHORT_CODE, "12345")
    phone = world.by_number(PHONE_NUMBER, "+14155550100")
    assert short is not None
    assert phone is not None
    assert short.service_sid == MG_A
    assert world.senders[pn(2)].service_sid == MG_B
    assert world.by_number(ALPHA_SENDER, "My Brand", service_sid=MG_B) is not None
    assert world.by_number(ALPHA_SENDER, "Other", service_sid=MG_B) is not None
    assert world.by_number(ALPHA_SENDER, "My Brand", service_sid=MG_A) is None
    assert phone.service_sid is None
    assert world.senders[sc(1)].service_sid is None


def test_staging_puts_a_fetch_rows_sender_in_its_service(tmp_path: Path) -> None:
    """A fetch row finds its sender where it reads it: a number, a SID and an alpha text."""
    text = (
        "service_sid,sender,op\n"
        f"{MG_A},+14155550100,fetch\n"
        f"{MG_B},{sc(1)},fetch\n"
        f"{MG_B},Brand,fetch\n"
    )
    world, _, _ = seeded(tmp_path, text, stage=True)
    phone = world.by_number(PHONE_NUMBER, "+14155550100")
    assert phone is not None
    assert phone.service_sid == MG_A
    assert world.senders[sc(1)].service_sid == MG_B
    assert world.by_number(ALPHA_SENDER, "Brand", service_sid=MG_B) is not None


def test_the_first_staging_row_of_a_sender_wins(tmp_path: Path) -> None:
    """An alpha sender detached from A and later migrated out of B is staged in A only."""
    text = (
        "service_sid,sender,op,from_service_sid\n"
        f"{MG_A},Brand,detach,\n"
        f"{MG_A},Brand,migrate,{MG_B}\n"
        f"{MG_A},12345,detach,\n"
        f"{MG_A},12345,migrate,{MG_B}\n"
    )
    world, _, _ = seeded(tmp_path, text, stage=True)
    assert world.by_number(ALPHA_SENDER, "Brand", service_sid=MG_A) is not None
    assert world.by_number(ALPHA_SENDER, "Brand", service_sid=MG_B) is None
    short = world.by_number(SHORT_CODE, "12345")
    assert short is not None
    assert short.service_sid == MG_A


def test_a_number_already_on_the_account_keeps_its_sid(tmp_path: Path) -> None:
    """A number already on the account (say, from --state) is not seeded again by a job."""
    world = World()
    world.add_sender(PHONE_NUMBER, pn(9), "+14155550100")
    job = open_job(write(tmp_path / "job.csv", MIXED), default_op=Op.FETCH)
    seed_from_job(world, job)
    assert world.by_number(PHONE_NUMBER, "+14155550100") is world.senders[pn(9)]
    assert sum(s.number == "+14155550100" for s in world.senders.values()) == 1


def test_seed_from_flag_reads_a_mixed_job(tmp_path: Path) -> None:
    """``bulkops sandbox --seed-from`` seeds every kind and says how many rows it used."""
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    args = parser.parse_args(["--seed-from", str(write(tmp_path / "job.csv", MIXED))])
    log = io.StringIO()
    world = build_world(args, log=log)
    assert "6 rows (1 invalid rows skipped)" in log.getvalue()
    assert world.by_number(PHONE_NUMBER, "+14155550100") is not None


@pytest.mark.parametrize("column", ["short_code_sid", "ShortCodeSid"])
def test_short_code_job_files_seed_as_before(tmp_path: Path, column: str) -> None:
    """A job of short code SIDs, as before phone numbers existed, seeds the same short codes."""
    text = f"service_sid,{column},op\n{MG_A},{sc(1)},detach\n{MG_B},{sc(2)},attach\n"
    world, used, _ = seeded(tmp_path, text, stage=True)
    assert used == 2
    assert world.senders[sc(1)].number == "10001"
    assert world.senders[sc(1)].service_sid == MG_A
    assert world.senders[sc(2)].service_sid is None
