"""A plan on disk: the job file ``bulkops run`` takes, and its summary JSON beside it.

The job's columns are ``service_sid,sender,kind,op,from_service_sid,number``:
the first five are a job's (``sender`` is the SID of a phone number or short
code, the text of an alpha sender), ``number`` is what people read (E.164, the
short code's digits, the text) and the job reader ignores it. A plan with no
step is the header alone, a job of no rows. Both files are written atomically.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ..files import atomic_write
from ..model import Op
from .values import Plan

#: The plan's header.
COLUMNS = ("service_sid", "sender", "kind", "op", "from_service_sid", "number")


def summary_path(plan_path: str | Path) -> Path:
    """Where the summary of the plan at ``plan_path`` goes: ``plan.csv`` → ``plan.summary.json``."""
    return Path(plan_path).with_suffix(".summary.json")


def write_plan(plan: Plan, path: str | Path) -> None:
    """Write ``plan``'s steps as a job file at ``path``, in run order; OSError if it cannot."""
    with atomic_write(Path(path), newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for step in plan.steps:
            writer.writerow(
                (
                    step.service_sid,
                    step.sender,
                    step.kind.value,
                    step.op.value,
                    step.from_service_sid or "",
                    step.number,
                )
            )


def summary_document(plan: Plan, *, desired: str, plan_path: str) -> dict[str, Any]:
    """The plan's summary as JSON: counts, services before → after, calls, conflicts.

    ``desired`` and ``plan_path`` are the files' names as the user gave them.
    """
    return {
        "desired": desired,
        "plan": plan_path,
        "counts": {
            "attach": plan.count(Op.ATTACH),
            "migrate": plan.count(Op.MIGRATE),
            "detach": plan.count(Op.DETACH),
            "unchanged": plan.unchanged,
            "repeated": plan.repeated,
            "conflicts": len(plan.conflicts),
        },
        "calls": plan.calls,
        "limit": plan.limit,
        "services": [
            {"service_sid": s.service_sid, "before": s.before, "after": s.after}
            for s in plan.services
        ],
        "conflicts": [
            {"line": c.line, "problem": c.problem.value, "message": c.message}
            for c in plan.conflicts
        ],
    }


def write_summary(plan: Plan, path: str | Path, *, desired: str, plan_path: str) -> None:
    """Write :func:`summary_document` to ``path`` atomically; OSError if it cannot."""
    with atomic_write(Path(path)) as handle:
        json.dump(summary_document(plan, desired=desired, plan_path=plan_path), handle, indent=1)
        handle.write("\n")


__all__ = ["COLUMNS", "summary_document", "summary_path", "write_plan", "write_summary"]
