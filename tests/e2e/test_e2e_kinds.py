"""Every sender kind end to end, against the sandbox over loopback.

A mixed job (phone numbers by E.164 and by SID, short codes by digits and by
SID, an alpha sender by its text) attaches, fetches, migrates and detaches;
``export`` then re-running its snapshot restores a wiped service; ``verify``
holds; numbers on a 2,000-number account resolve with a handful of listing calls.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from e2e_support import by_line, fast_config, run_job
from sandbox_worlds import credentials_of
from support import mg, pn, sc

from bulkops.commands.connection import Connection
from bulkops.commands.export import export
from bulkops.commands.verify import verify
from bulkops.model import SenderKind
from bulkops.sandbox import Sandbox, World

PHONE, SHORT, ALPHA = SenderKind.PHONE_NUMBER, SenderKind.SHORT_CODE, SenderKind.ALPHA_SENDER
HEADER = ["service_sid", "sender", "kind", "op", "from_service_sid"]
LIST_NUMBERS = "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
LIST_SHORT_CODES = "GET /2010-04-01/Accounts/{AccountSid}/SMS/ShortCodes.json"


def write(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """A job with the sender and kind columns; row i is line i + 2."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([*row, *[""] * (len(HEADER) - len(row))] for row in rows)
    return path


def services_of(world: World, kind: SenderKind, sender: str) -> list[str]:
    """Where the sandbox holds a sender: by SID, by number, or (alpha) by text."""
    return sorted(
        s.service_sid
        for s in world.senders.values()
        if s.kind is kind and sender in (s.sid, s.number) and s.service_sid is not None
    )


def outcomes(records: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    return {line: (r["outcome"], r["detail"]) for line, r in by_line(records).items()}


def mixed_world() -> tuple[World, dict[str, str]]:
    """An account with two phone numbers and two short codes; returns the world and SIDs."""
    world = World()
    for n in (1, 2, 3):
        world.add_service(mg(n))
    p1, p2 = world.seed_senders(PHONE, ["+14155550101", pn(2)])
    s1, s2 = world.seed_senders(SHORT, ["24601", sc(2)])
    return world, {"p1": p1, "p2": p2, "s1": s1, "s2": s2}


@pytest.mark.asyncio
async def test_a_mixed_job_attaches_fetches_migrates_and_detaches_every_kind(
    tmp_path: Path,
) -> None:
    """By SID, by number and by text; the world follows each step; records name each sender."""
    world, sid = mixed_world()
    async with Sandbox(world=world) as sb:
        config = fast_config(sb.base_url)
        attach = write(tmp_path / "attach.csv", [
            (mg(1), "+14155550101", "", "attach"),
            (mg(1), sid["p2"], "", "attach"),
            (mg(2), "24601", "short_code", "attach"),
            (mg(2), sid["s2"], "", "attach"),
            (mg(1), "Acme Alerts", "", "attach"),
            (mg(2), "Acme Alerts", "alpha_sender", "attach"),
            (mg(1), "+14155559999", "", "attach"),  # not the account's
            (mg(2), "24601", "", "attach"),  # the same short code again, by number
        ])  # fmt: skip
        run = await run_job(sb, attach, tmp_path / "attach.jsonl", config)
        assert outcomes(run.records) == {
            **{line: ("succeeded", "attached") for line in range(2, 8)},
            8: ("failed", "sender_not_found"),
            9: ("skipped", "duplicate"),
        }
        records = by_line(run.records)
        assert [records[2][k] for k in ("kind", "sender", "sender_sid")] == [
            "phone_number", "+14155550101", sid["p1"],
        ]  # fmt: skip
        assert records[4]["short_code_sid"] == sid["s1"]
        assert records[6]["sender_sid"].startswith("AI")
        assert services_of(world, PHONE, sid["p1"]) == [mg(1)]
        assert services_of(world, SHORT, "24601") == [mg(2)]
        assert services_of(world, ALPHA, "Acme Alerts") == [mg(1), mg(2)]
        assert sb.stats.by_method["POST"] == 6  # nothing written for the unknown number

        fetch = write(tmp_path / "fetch.csv", [
            (mg(1), "+14155550101", "", "fetch"),
            (mg(2), sid["s1"], "", "fetch"),
            (mg(1), "Acme Alerts", "", "fetch"),
        ])  # fmt: skip
        run = await run_job(sb, fetch, tmp_path / "fetch.jsonl", config)
        records = by_line(run.records)
        assert {r["detail"] for r in records.values()} == {"fetched"}
        assert (records[2]["phone_number"], records[3]["short_code"]) == ("+14155550101", "24601")
        assert records[4]["alpha_sender"] == "Acme Alerts"

        migrate = write(tmp_path / "migrate.csv", [
            (mg(3), "+14155550101", "", "migrate", mg(1)),
            (mg(3), "24601", "", "migrate", mg(2)),
            (mg(3), "Acme Alerts", "", "migrate", mg(1)),
        ])  # fmt: skip
        run = await run_job(sb, migrate, tmp_path / "migrate.jsonl", config)
        records = by_line(run.records)
        assert {r["detail"] for r in records.values()} == {"migrated"}
        assert records[2]["steps"] == ["detach:204", "attach:201"]
        assert records[4]["steps"][0] == "attach:201"  # alpha: into the target first
        assert records[4]["steps"][-1] == "detach:204"
        assert services_of(world, PHONE, sid["p1"]) == [mg(3)]
        assert services_of(world, SHORT, sid["s1"]) == [mg(3)]
        assert services_of(world, ALPHA, "Acme Alerts") == [mg(2), mg(3)]

        detach = write(tmp_path / "detach.csv", [
            (mg(3), "+14155550101", "", "detach"),
            (mg(3), "24601", "", "detach"),
            (mg(3), "Acme Alerts", "", "detach"),
            (mg(3), "Acme Alerts", "", "detach"),
        ])  # fmt: skip
        run = await run_job(sb, detach, tmp_path / "detach.jsonl", config)
        assert outcomes(run.records) == {
            2: ("succeeded", "detached"),
            3: ("succeeded", "detached"),
            4: ("succeeded", "detached"),
            5: ("skipped", "duplicate"),
        }
        assert world.services[mg(3)] == {kind: [] for kind in world.services[mg(3)]}


@pytest.mark.asyncio
async def test_export_then_running_the_snapshot_restores_a_wiped_service(tmp_path: Path) -> None:
    """Every kind is exported, the service is emptied, and the snapshot puts it all back."""
    world, sid = mixed_world()
    for kind, value in [(PHONE, sid["p1"]), (PHONE, sid["p2"]), (SHORT, sid["s1"]),
                        (ALPHA, "Acme Alerts"), (ALPHA, "Beta & Co")]:  # fmt: skip
        world.attach(mg(1), kind, value)
    before = {kind: sorted(world.senders[s].number for s in world.pool(mg(1), kind))
              for kind in SenderKind}  # fmt: skip
    snapshot = tmp_path / "snapshot.csv"
    async with Sandbox(world=world) as sb:
        connection = Connection(base_url=sb.base_url, credentials=credentials_of(sb))
        summary = await export([mg(1)], snapshot, connection=connection)
        assert summary.senders == 5
        assert summary.pages == 3  # one page per kind
        for kind in SenderKind:
            for sender_sid in list(world.pool(mg(1), kind)):
                world.detach(mg(1), kind, sender_sid)
        assert all(not world.pool(mg(1), kind) for kind in SenderKind)

        run = await run_job(sb, snapshot, tmp_path / "restore.jsonl", fast_config(sb.base_url))
        assert {(r["outcome"], r["detail"]) for r in run.records} == {("succeeded", "attached")}
        after = {kind: sorted(world.senders[s].number for s in world.pool(mg(1), kind))
                 for kind in SenderKind}  # fmt: skip
        assert after == before
        held = await verify(snapshot, connection=connection)
    assert (held.ok, held.matches, held.rows) == (True, 5, 5)
    with snapshot.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["service_sid", "sender", "kind", "op", "number", "country_code"]
    assert {(r["kind"], r["sender"]) for r in rows if r["kind"] == "alpha_sender"} == {
        ("alpha_sender", "Acme Alerts"), ("alpha_sender", "Beta & Co"),
    }  # fmt: skip


@pytest.mark.asyncio
async def test_verify_holds_after_a_mixed_run_and_finds_what_does_not(tmp_path: Path) -> None:
    """verify resolves numbers as a run does and checks every kind; a change shows up."""
    world, sid = mixed_world()
    job = write(tmp_path / "job.csv", [
        (mg(1), "+14155550101", "", "attach"),
        (mg(2), "24601", "", "attach"),
        (mg(1), "Acme Alerts", "", "attach"),
        (mg(3), sid["p2"], "", "detach"),
    ])  # fmt: skip
    unknown = write(tmp_path / "unknown.csv", [(mg(1), "+14155559999", "", "attach")])
    async with Sandbox(world=world) as sb:
        connection = Connection(base_url=sb.base_url, credentials=credentials_of(sb))
        await run_job(sb, job, tmp_path / "run.jsonl", fast_config(sb.base_url))
        held = await verify(job, connection=connection)
        (alpha_sid,) = world.pool(mg(1), ALPHA)
        world.detach(mg(1), ALPHA, alpha_sid)
        problems: list[str] = []
        changed = await verify(
            job, connection=connection, report=lambda p: problems.append(p.message)
        )
        missing = await verify(
            unknown, connection=connection, report=lambda p: problems.append(p.message)
        )
    assert (held.ok, held.matches) == (True, 4)
    assert (changed.ok, changed.mismatches) == (False, 1)
    assert (missing.ok, missing.mismatches) == (False, 1)
    assert problems == [
        f"Acme Alerts expected attached to {mg(1)} but it is not",
        "the account has no phone number +14155559999",
    ]


@pytest.mark.asyncio
async def test_numbers_on_a_2000_number_account_resolve_with_a_handful_of_listing_calls(
    tmp_path: Path,
) -> None:
    """2,000 rows naming 2,000 numbers: two or three listing pages, not 2,000 lookups."""
    world = World()
    numbers = [f"+1415555{n:04d}" for n in range(2000)]
    world.seed_senders(PHONE, numbers)
    services = [mg(n) for n in range(1, 6)]  # 400 each: the limit
    for service in services:
        world.add_service(service)
    job = write(
        tmp_path / "big.csv", [(services[i % 5], n, "", "attach") for i, n in enumerate(numbers)]
    )
    async with Sandbox(world=world) as sb:
        run = await run_job(
            sb, job, tmp_path / "big.jsonl", fast_config(sb.base_url, concurrency=16)
        )
        routes = Counter(sb.stats.by_route)
    assert Counter(r["detail"] for r in run.records) == {"attached": 2000}
    assert 1 <= routes[LIST_NUMBERS] <= 3
    assert routes[LIST_SHORT_CODES] == 0
    assert routes["GET /v1/Services/{Sid}"] == 1  # the pre-flight read (issue 11), once
    assert sum(routes.values()) == 2000 + routes[LIST_NUMBERS] + 1
    assert all(len(world.pool(s, PHONE)) == 400 for s in services)
