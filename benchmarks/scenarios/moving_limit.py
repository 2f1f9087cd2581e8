"""Other traffic that moves: limit 12, other traffic 0, then 4 for 3 s, then 0 again.

The sandbox's schedule (from the first request) holds 4 of the account's 12
slots from 1.5 s to 4.5 s, as the account's production traffic would. Ideal
integrates the free slots over time. Goals: bulkops within 1.2× ideal, at most
3 % of its requests answered 429, every row done.

"raw loop told 8" runs the hand-written loop at 8, the fewest slots free at any
time (12 less the 4 of other traffic): it never draws a 429 but leaves 4 slots
idle while the others are gone, so it is a reference, not a floor. Reported, not
judged: bulkops's time ÷ its time ("÷ told"). As in the fixed limit, both run
``ROUNDS`` times in turn and the time goal uses bulkops's median.
"""

from __future__ import annotations

from typing import Any

from ..report import goal, reported
from ..runner import Bench
from .account import (
    TOOLS,
    ideal_s,
    measure,
    over_told,
    rounds_line,
    sandbox_flags,
    single_rounds,
    tools_table,
)

LIMIT = 12
SCHEDULE = ((0.0, 0), (1.5, 4), (4.5, 0))
NAME = "moving_limit"
#: The fewest slots free at any time: the limit less the most other traffic holds.
TOLD_CONCURRENCY = LIMIT - max(n for _, n in SCHEDULE)
TOLD = f"raw loop told {TOLD_CONCURRENCY}"


def run(bench: Bench) -> dict[str, Any]:
    rows = 600 if bench.quick else 1500
    ideal = ideal_s(rows, LIMIT, SCHEDULE)
    job = bench.job(rows)
    schedule = ",".join(f"{t:g}:{n}" for t, n in SCHEDULE)
    flags = sandbox_flags(LIMIT, "--background-schedule", schedule)
    tools = {tool: measure(bench, tool, job, flags, rows=rows, ideal=ideal) for tool in TOOLS}
    tools[TOLD] = measure(
        bench, "raw_aiohttp", job, flags, rows=rows, ideal=ideal, concurrency=TOLD_CONCURRENCY
    )
    over_told(tools, TOLD)
    paired = single_rounds(
        bench, job, flags, tools, told=TOLD, told_concurrency=TOLD_CONCURRENCY, ideal=ideal
    )
    return {
        "rows": rows,
        "limit": LIMIT,
        "schedule": [list(step) for step in SCHEDULE],
        "ideal_s": ideal,
        "tools": tools,
        "paired": paired,
        "goals": _goals(paired, rows=rows, ideal=ideal),
    }


def _goals(paired: dict[str, Any], *, rows: int, ideal: float) -> list[dict[str, Any]]:
    worst = paired["worst"]
    return [
        goal(
            "moving other traffic: bulkops time ÷ ideal (median)",
            paired["median_ours_s"] / ideal,
            "<=",
            1.2,
        ),
        goal(
            "moving other traffic: share of requests answered 429 (worst round)",
            worst["throttled_share"],
            "<=",
            0.03,
        ),
        goal(
            "moving other traffic: share of rows succeeded (worst round)",
            worst["succeeded"] / rows,
            ">=",
            1.0,
        ),
        reported(
            f"moving other traffic: bulkops time ÷ the told-{TOLD_CONCURRENCY} loop's "
            "(median of rounds)",
            paired["median_ours_over_told"],
        ),
    ]


def markdown(section: dict[str, Any]) -> str:
    steps = ", ".join(f"{n} from {t:g} s" for t, n in section["schedule"])
    return (
        f"### 8. Moving other traffic (limit {section['limit']}, 40 ms; other traffic {steps}; "
        f"{section['rows']:,} rows, ideal {section['ideal_s']:.2f} s)\n\n"
        + tools_table(section["tools"])
        + rounds_line(section)
    )
