"""Retry-After 5 on every 429 (limit 10): the throttled row waits, the run does not stall.

Before bulkops read the account's count, every probe above the limit paused the
whole engine for 5 s again (200 rows at a limit of 5 took 28 s where 4 were
possible). Goal: bulkops within 1.3× ideal + 5 s, every row done. The peers
ignore Retry-After (they sleep 50 ms), as hand-written loops usually do.
"""

from __future__ import annotations

from typing import Any

from ..report import goal
from ..runner import Bench
from .account import TOOLS, ideal_s, measure, sandbox_flags, tools_table

LIMIT, RETRY_AFTER_S = 10, 5
NAME = "retry_after"


def run(bench: Bench) -> dict[str, Any]:
    rows = 300 if bench.quick else 1500
    ideal = ideal_s(rows, LIMIT)
    job = bench.job(rows)
    flags = sandbox_flags(LIMIT, "--retry-after", str(RETRY_AFTER_S))
    tools = {tool: measure(bench, tool, job, flags, rows=rows, ideal=ideal) for tool in TOOLS}
    ours = tools["bulkops"]
    allowed_s = 1.3 * ideal + RETRY_AFTER_S
    return {
        "rows": rows,
        "limit": LIMIT,
        "retry_after_s": RETRY_AFTER_S,
        "ideal_s": ideal,
        "tools": tools,
        "goals": [
            goal(
                f"Retry-After {RETRY_AFTER_S}: bulkops time s (≤ 1.3 × ideal + {RETRY_AFTER_S} s)",
                ours["time_s"],
                "<=",
                round(allowed_s, 2),
            ),
            goal(
                f"Retry-After {RETRY_AFTER_S}: share of rows succeeded",
                ours["succeeded"] / rows,
                ">=",
                1.0,
            ),
        ],
    }


def markdown(section: dict[str, Any]) -> str:
    return (
        f"### 9. Retry-After {section['retry_after_s']} on every 429 (limit {section['limit']}, "
        f"40 ms; {section['rows']:,} rows, ideal {section['ideal_s']:.2f} s)\n\n"
        + tools_table(section["tools"])
    )
