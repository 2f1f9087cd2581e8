"""plan → run → verify against the sandbox over loopback: the issue's "Done when".

A desired file of 2,000 senders of every kind, named by SID, by number and by
text, spread today over several services: some in place, some elsewhere, some
in none, some unknown to the account, some desired twice, one service that
would pass 400. The plan lists each service once per kind (plus the services
list and the account's listings for ownership), leaves the conflicts out, and
after running it ``verify`` holds for every row that was not a conflict.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e_support import fast_config, run_job
from support import mg, pn, sc

from bulkops.commands.connection import Connection
from bulkops.commands.plan import exit_code, plan_job
from bulkops.commands.verify import verify
from bulkops.jobs import open_job
from bulkops.model import Op, SenderKind
from bulkops.planning import Problem, write_plan
from bulkops.sandbox import Sandbox, World

PHONE, SHORT, ALPHA = SenderKind.PHONE_NUMBER, SenderKind.SHORT_CODE, SenderKind.ALPHA_SENDER
DESIRED = [mg(10 + i) for i in range(6)]
ELSEWHERE = mg(30)  # a service the file never names
FULL = mg(40)  # holds 390; the file wants 25 more there
NO_SUCH = mg(99)
POOL_ROWS = 1722


@dataclass
class Scenario:
    """The desired rows (file order) and what the plan must make of each line."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    attach: set[int] = field(default_factory=set)
    move: set[int] = field(default_factory=set)
    unchanged: set[int] = field(default_factory=set)
    conflicts: dict[int, Problem] = field(default_factory=dict)

    def add(self, service: str, sender: str, into: set[int] | Problem) -> int:
        self.rows.append((service, sender))
        line = len(self.rows) + 1
        if isinstance(into, Problem):
            self.conflicts[line] = into
        else:
            into.add(line)
        return line


def build(world: World) -> Scenario:
    """Fill ``world`` and write down, per line, what the plan must do."""
    for service in [*DESIRED, ELSEWHERE, FULL]:
        world.add_service(service)
    s = Scenario()
    add_pool(world, s)
    add_alpha(world, s)
    add_conflicts(world, s)
    assert len(s.rows) == 2000
    return s


def add_pool(world: World, s: Scenario) -> None:
    """Phone numbers and short codes, by SID and by number: in place, elsewhere, in none."""
    for i in range(POOL_ROWS):
        kind = PHONE if i % 3 else SHORT
        sid, number = (pn(i), f"+1415{i:07d}") if kind is PHONE else (sc(i), f"{10000 + i}")
        world.add_sender(kind, sid, number)
        service = DESIRED[i % 6]
        where = (i // 6) % 4  # in place, elsewhere, in none, in none
        if where == 1:
            world.attach(ELSEWHERE if (i // 24) % 2 else DESIRED[(i + 1) % 6], kind, sid)
        elif where == 0:
            world.attach(service, kind, sid)
        into = s.unchanged if where == 0 else s.move if where == 1 else s.attach
        s.add(service, sid if i % 2 else number, into)


def add_alpha(world: World, s: Scenario) -> None:
    """Alpha senders: in place, only elsewhere (attached there too, never moved), absent."""
    for j in range(200):
        text, service = f"Brand {j}", DESIRED[j % 6]
        if j % 3 == 0:
            world.attach(service, ALPHA, text)
        elif j % 3 == 1:
            world.attach(DESIRED[(j + 1) % 6], ALPHA, text)
        s.add(service, text, s.unchanged if j % 3 == 0 else s.attach)


def add_conflicts(world: World, s: Scenario) -> None:
    """Unknown senders, one number desired twice, no such service, a bad row, a full service."""
    for k in range(20):  # unknown to the account: by number, and by SID
        s.add(DESIRED[k % 6], f"+1999{k:07d}", Problem.NOT_OWNED)
        s.add(DESIRED[k % 6], pn(90_000 + k), Problem.NOT_OWNED)
    for k in range(5):  # one phone number desired in two services
        world.add_sender(PHONE, pn(50_000 + k), f"+1650{k:07d}")
        s.add(DESIRED[0], pn(50_000 + k), Problem.TWO_SERVICES)
    for k in range(5):
        s.add(DESIRED[1], f"+1650{k:07d}", Problem.TWO_SERVICES)
    world.add_sender(PHONE, pn(80_000), "+16800000000")
    s.add(NO_SUCH, pn(80_000), Problem.NO_SERVICE)
    s.add(NO_SUCH, "Solo", Problem.NO_SERVICE)
    s.add(DESIRED[2], "not a sender!", Problem.INVALID)
    for k in range(390):
        world.add_sender(PHONE, pn(60_000 + k), f"+1660{k:07d}", service_sid=FULL)
    for k in range(25):  # the first 10 fit, in file order
        world.add_sender(SHORT, sc(70_000 + k), f"7{k:04d}")
        s.add(FULL, sc(70_000 + k), s.attach if k < 10 else Problem.OVER_LIMIT)


def write_desired(path: Path, rows: Sequence[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["service_sid", "sender"])
        writer.writerows(rows)
    return path


@pytest.mark.asyncio
async def test_plan_run_verify_on_2000_mixed_senders(tmp_path: Path) -> None:
    """One listing per service and kind; right counts and conflicts; then verify holds."""
    world = World()
    scenario = build(world)
    desired = write_desired(tmp_path / "desired.csv", scenario.rows)
    job = open_job(desired, default_op=Op.ATTACH)
    async with Sandbox(world=world) as sb:
        connection = Connection(base_url=sb.base_url, credentials=sb.credentials())
        planned = await plan_job(job, connection=connection)
        by_route = dict(sb.stats.by_route)
        plan = planned.plan

        # What it listed: the services, each service once per kind, the account's numbers.
        every = len(world.services)
        phones_owned = len(world.account_senders(PHONE))
        shorts_owned = len(world.account_senders(SHORT))
        assert by_route == {
            "GET /v1/Services": 1,
            "GET /v1/Services/{ServiceSid}/PhoneNumbers": every,
            "GET /v1/Services/{ServiceSid}/ShortCodes": every,
            "GET /v1/Services/{ServiceSid}/AlphaSenders": len(DESIRED) + 1,
            "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json": -(
                -phones_owned // 1000
            ),
            "GET /2010-04-01/Accounts/{AccountSid}/SMS/ShortCodes.json": -(-shorts_owned // 1000),
        }
        assert planned.list_calls == sum(by_route.values())

        # What it planned: each line as the scenario says, conflicts left out.
        assert {s.line for s in plan.steps if s.op is Op.ATTACH} == scenario.attach
        assert {s.line for s in plan.steps if s.op is Op.MIGRATE} == scenario.move
        assert plan.count(Op.DETACH) == 0
        assert plan.unchanged == len(scenario.unchanged)
        assert {c.line: c.problem for c in plan.conflicts} == scenario.conflicts
        full = next(s for s in plan.services if s.service_sid == FULL)
        assert (full.before, full.after) == (390, 400)
        assert all(s.after <= 400 for s in plan.services)
        assert plan.calls == len(scenario.attach) + 2 * len(scenario.move)
        assert exit_code(plan, detailed=False) == 1
        assert exit_code(plan, detailed=True) == 1

        # Run it as `bulkops run plan.csv` does, then verify the desired file.
        write_plan(plan, tmp_path / "plan.csv")
        sb.stats.reset()
        run = await run_job(
            sb, tmp_path / "plan.csv", tmp_path / "run.jsonl", fast_config(sb.base_url)
        )
        assert len(run.records) == len(plan.steps)
        assert {r["outcome"] for r in run.records} == {"succeeded"}
        # The plan's calls, plus the one read that proves the connection before any write.
        assert sb.stats.requests == plan.calls + 1
        assert sb.stats.snapshot()["by_method"].get("GET") == 1

        problems: list[int] = []
        report = await verify(
            desired,
            connection=connection,
            default_op=Op.ATTACH,
            report=lambda p: problems.append(p.line),
        )
        # Every conflict is a mismatch: the earlier row of a number desired in two
        # services too (it can be in one), not merely superseded by the later one.
        assert set(problems) == set(scenario.conflicts)
        assert report.superseded == 0
        assert report.matches == 2000 - len(scenario.conflicts)

        again = await plan_job(job, connection=connection)
        assert again.plan.steps == ()
        assert {c.line for c in again.plan.conflicts} == set(scenario.conflicts)
