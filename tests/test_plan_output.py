"""The plan on disk: a job file ``bulkops run`` reads back as the plan's steps, and its summary."""

from __future__ import annotations

import json
from pathlib import Path

from support import mg, pn, sc

from bulkops.jobs import open_job
from bulkops.model import Op, Row, SenderKind
from bulkops.planning import (
    Conflict,
    Plan,
    Problem,
    ServiceCount,
    Step,
    summary_document,
    summary_path,
    write_plan,
)

PHONE, SHORT, ALPHA = SenderKind.PHONE_NUMBER, SenderKind.SHORT_CODE, SenderKind.ALPHA_SENDER


def plan_of(*steps: Step, conflicts: tuple[Conflict, ...] = ()) -> Plan:
    return Plan(
        steps=steps,
        conflicts=conflicts,
        unchanged=3,
        repeated=1,
        services=(ServiceCount(mg(1), 2, 3),),
        calls=7,
    )


def test_the_plan_reads_back_as_a_job_of_its_steps(tmp_path: Path) -> None:
    """Every kind, attach/migrate/detach: the job reader sees exactly the steps, in order."""
    steps = (
        Step(Op.DETACH, mg(1), ALPHA, "Old Brand", "Old Brand"),
        Step(Op.MIGRATE, mg(2), SHORT, sc(1), "12345", mg(1), line=3),
        Step(Op.ATTACH, mg(1), PHONE, pn(1), "+14155550100", line=2),
    )
    path = tmp_path / "plan.csv"
    write_plan(plan_of(*steps), path)
    rows = list(open_job(path).rows())
    assert rows == [
        Row(2, Op.DETACH, mg(1), "Old Brand", ALPHA),
        Row(3, Op.MIGRATE, mg(2), sc(1), SHORT, mg(1)),
        Row(4, Op.ATTACH, mg(1), pn(1), PHONE),
    ]
    assert path.read_text(encoding="utf-8").splitlines()[2].endswith(",12345")


def test_a_plan_without_steps_is_a_header_only_job(tmp_path: Path) -> None:
    """Nothing to do: a job of no rows, which a run accepts."""
    path = tmp_path / "plan.csv"
    write_plan(plan_of(), path)
    assert path.read_text(encoding="utf-8") == (
        "service_sid,sender,kind,op,from_service_sid,number\n"
    )
    assert open_job(path).rows_total == 0


def test_the_summary_counts_services_calls_and_conflicts(tmp_path: Path) -> None:
    """Its JSON has the counts, services before → after, calls and each conflict's line."""
    message = "phone number +1 for MG…: the account does not own it"
    conflict = Conflict(5, Problem.NOT_OWNED, message)
    plan = plan_of(Step(Op.ATTACH, mg(1), PHONE, pn(1), line=2), conflicts=(conflict,))
    doc = summary_document(plan, desired="desired.csv", plan_path="plan.csv")
    assert doc["counts"] == {
        "attach": 1,
        "migrate": 0,
        "detach": 0,
        "unchanged": 3,
        "repeated": 1,
        "conflicts": 1,
    }
    assert doc["services"] == [{"service_sid": mg(1), "before": 2, "after": 3}]
    assert doc["calls"] == 7
    assert doc["limit"] == 400
    assert doc["conflicts"] == [{"line": 5, "problem": "not_owned", "message": conflict.message}]
    assert json.loads(json.dumps(doc)) == doc
    assert summary_path(tmp_path / "plan.csv") == tmp_path / "plan.summary.json"
