"""Faults: 5 % of requests answered 503 and 1 % dropped unanswered; does every row still succeed?

bulkops runs unthrottled at its default concurrency against a seeded sandbox
(``--fail-503 0.05 --drop 0.01 --seed 1``). Its results file says how each row
ended and after how many tries; with 6 % of tries failing at random, about
0.06 ÷ 0.94 ≈ 0.064 extra tries per row are expected.
"""

from __future__ import annotations

from typing import Any

from ..report import fmt, goal, table
from ..runner import Bench, failure, run_bulkops

FAIL_503, DROP, SEED = 0.05, 0.01, 1
NAME = "faults"


def run(bench: Bench) -> dict[str, Any]:
    rows = 400 if bench.quick else 2000
    job = bench.job(rows)
    flags = ("--fail-503", str(FAIL_503), "--drop", str(DROP), "--seed", str(SEED))
    with bench.sandbox(job, *flags) as sandbox:
        sandbox.reset_stats()
        result = run_bulkops(bench, job, sandbox, "--rate", "0")
        stats = sandbox.stats()
    extra = result.attempts / result.rows - 1 if result.rows else None
    expected = (FAIL_503 + DROP) / (1 - FAIL_503 - DROP)
    share = result.succeeded / rows
    return {
        "rows": rows,
        "fail_503": FAIL_503,
        "drop": DROP,
        "seed": SEED,
        "error": failure(result),
        "succeeded": result.succeeded,
        "outcomes": result.outcomes,
        "extra_attempts_per_row": None if extra is None else round(extra, 4),
        "expected_extra_attempts_per_row": round(expected, 4),
        "sandbox_faults": stats["faults"],
        "sandbox_requests": stats["requests"],
        "loop_s": round(result.loop_s, 3),
        "goals": [goal("faults: share of rows succeeded", share, ">=", 1.0)],
    }


def markdown(section: dict[str, Any]) -> str:
    faults = section["sandbox_faults"]
    row = [
        f"{section['succeeded']:,}/{section['rows']:,}",
        fmt(section["extra_attempts_per_row"], 3),
        fmt(section["expected_extra_attempts_per_row"], 3),
        f"{faults['503']:,} / {faults['drop']:,}",
        fmt(section["loop_s"], 2),
        ", ".join(f"{k} {v:,}" for k, v in section["outcomes"].items()),
    ]
    head = ["succeeded", "extra tries/row", "expected", "503s / drops", "time s", "outcomes"]
    note = f"\n\n- error: {section['error']}" if section["error"] else ""
    return (
        f"### 5. Faults (sandbox --fail-503 {section['fail_503']} --drop {section['drop']} "
        f"--seed {section['seed']}; bulkops --rate 0)\n\n" + table(head, [row]) + note
    )
