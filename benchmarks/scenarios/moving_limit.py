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

from ..report import reported
from ..runner import Bench
from .account import (
    ideal_s,
    measure_rounds,
    round_goals,
    rounds_line,
    sandbox_flags,
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
    tools, paired = measure_rounds(
        bench, job, flags, rows=rows, ideal=ideal, told=TOLD, told_concurrency=TOLD_CONCURRENCY
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
    name = "moving other traffic"
    return [
        *round_goals(name, paired, rows=rows, ideal=ideal, limits=(1.2, 0.03)),
        reported(
            f"{name}: bulkops time ÷ the told-{TOLD_CONCURRENCY} loop's (median of rounds)",
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
