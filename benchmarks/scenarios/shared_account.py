"""Two processes on one account: half the rows each, started together, limit 10.

Two clients of the same kind run at once against one sandbox, as two hosts or
two jobs on one Twilio account; nothing connects them but the account's answers.
Goals for bulkops: the later one finishes within 1.2× ideal (ideal: all rows in
the account's 10 slots), their requests together at most 3 % answered 429, their
times within 1.3× of each other (neither starves), every row done.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..report import fmt, goal, table
from ..runner import Bench
from .account import TOOLS, entry, ideal_s, run_tool, sandbox_flags

LIMIT = 10
NAME = "shared_account"


def _pair(bench: Bench, tool: str, rows: int, ideal: float) -> dict[str, Any]:
    half = rows // 2
    jobs = [bench.job(half), bench.job(rows - half, first=half)]
    with bench.sandbox(bench.job(rows), *sandbox_flags(LIMIT)) as sandbox:
        sandbox.reset_stats()
        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(run_tool, bench, tool, job, sandbox, concurrency=100) for job in jobs
            ]
            results = [future.result() for future in futures]
        stats = sandbox.stats()
    sizes = (half, rows - half)
    runs = [
        entry(bench, result, stats, rows=size, ideal=ideal)
        for result, size in zip(results, sizes, strict=True)
    ]
    times = sorted(r["time_s"] for r in runs)
    requests = stats["requests"]
    return {
        "errors": [r["error"] for r in runs if r["error"]],
        "succeeded": sum(r["succeeded"] for r in runs),
        "rows": rows,
        "times_s": [r["time_s"] for r in runs],
        "later_over_ideal": round(times[-1] / ideal, 3),
        "later_over_earlier": round(times[-1] / times[0], 3) if times[0] else None,
        "requests": requests,
        "throttled": stats["throttled"],
        "throttled_share": round(stats["throttled"] / requests, 4) if requests else None,
        "peak_account_in_flight": stats["peak_account_in_flight"],
        "timeline": stats["per_second"],
        "runs": [r["run"] for r in runs],
    }


def run(bench: Bench) -> dict[str, Any]:
    rows = 400 if bench.quick else 1500
    ideal = ideal_s(rows, LIMIT)
    tools = {tool: _pair(bench, tool, rows, ideal) for tool in TOOLS}
    ours = tools["bulkops"]
    return {
        "rows": rows,
        "limit": LIMIT,
        "ideal_s": ideal,
        "tools": tools,
        "goals": [
            goal(
                "two processes: the later one's time ÷ ideal", ours["later_over_ideal"], "<=", 1.2
            ),
            goal(
                "two processes: share of all requests answered 429",
                ours["throttled_share"],
                "<=",
                0.03,
            ),
            goal("two processes: later ÷ earlier finish", ours["later_over_earlier"], "<=", 1.3),
            goal("two processes: share of rows succeeded", ours["succeeded"] / rows, ">=", 1.0),
        ],
    }


def markdown(section: dict[str, Any]) -> str:
    head = ["clients", "succeeded", "times s", "later ÷ ideal", "later ÷ earlier", "requests",
            "429 share", "peak in flight"]  # fmt: skip
    rows = [
        [
            f"2 × {tool}" + (f" ({'; '.join(t['errors'])})" if t["errors"] else ""),
            f"{t['succeeded']:,}/{t['rows']:,}",
            " / ".join(fmt(x, 2) for x in t["times_s"]),
            fmt(t["later_over_ideal"], 2),
            fmt(t["later_over_earlier"], 2),
            f"{t['requests']:,}",
            fmt(t["throttled_share"], 3),
            str(t["peak_account_in_flight"]),
        ]
        for tool, t in section["tools"].items()
    ]
    return (
        f"### 10. Two processes on one account (limit {section['limit']}, 40 ms; "
        f"{section['rows']:,} rows, half each, ideal {section['ideal_s']:.2f} s)\n\n"
        + table(head, rows)
    )
