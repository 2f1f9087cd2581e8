"""A fixed limit: the account admits 10 in flight; does bulkops sit at it, with few 429s?

bulkops (``--concurrency 100``) and the peers against a sandbox admitting 10
requests in flight, 40 ms each; "raw loop told 10" runs the hand-written loop at
exactly the limit, as if someone knew it: about the physical floor here.
Goals: bulkops within 1.1× ideal, at most 2 % of its requests answered 429,
every row done.
"""

from __future__ import annotations

from typing import Any

from ..report import goal
from ..runner import Bench
from .account import TOOLS, ideal_s, measure, sandbox_flags, tools_table

LIMIT = 10
NAME = "fixed_limit"
ORACLE = "raw loop told 10"


def run(bench: Bench) -> dict[str, Any]:
    rows = 300 if bench.quick else 1500
    ideal = ideal_s(rows, LIMIT)
    job = bench.job(rows)
    flags = sandbox_flags(LIMIT)
    tools = {tool: measure(bench, tool, job, flags, rows=rows, ideal=ideal) for tool in TOOLS}
    tools[ORACLE] = measure(
        bench, "raw_aiohttp", job, flags, rows=rows, ideal=ideal, concurrency=LIMIT
    )
    ours = tools["bulkops"]
    return {
        "rows": rows,
        "limit": LIMIT,
        "ideal_s": ideal,
        "tools": tools,
        "goals": [
            goal("fixed limit 10: bulkops time ÷ ideal", ours["time_over_ideal"], "<=", 1.1),
            goal(
                "fixed limit 10: share of requests answered 429",
                ours["throttled_share"],
                "<=",
                0.02,
            ),
            goal("fixed limit 10: share of rows succeeded", ours["succeeded"] / rows, ">=", 1.0),
        ],
    }


def markdown(section: dict[str, Any]) -> str:
    return (
        f"### 7. Fixed limit (sandbox --max-in-flight {section['limit']}, 40 ms; "
        f"{section['rows']:,} rows, ideal {section['ideal_s']:.2f} s)\n\n"
        + tools_table(section["tools"])
    )
