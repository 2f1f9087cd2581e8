"""Two processes on one account: half the rows each, started together, limit 10.

Two clients of the same kind run at once against one sandbox, as two hosts or
two jobs on one Twilio account; nothing connects them but the account's answers.
Goals for bulkops: the later one finishes within 1.2× ideal (ideal: all rows in
the account's 10 slots), their requests together at most 3 % answered 429, their
times within 1.3× of each other (neither starves), every row done.

"2 × raw loop told 5" runs two hand-written loops at 5 each, half the limit, as
if each knew its share, each call started the moment a slot frees (unpaced: see
``fixed_limit``). Reported, not judged: its later
time ÷ ideal, and bulkops's later time ÷ its later time ("later ÷ told"). One
run swings by about ±10 % here, so the bulkops pair and the told pair run
``ROUNDS`` times in turn: the time goal and the told time use the medians, the 429
and fairness goals the worst of bulkops's rounds.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..report import fmt, goal, reported, table
from ..runner import Bench
from .account import (
    CONCURRENCY,
    ROUNDS,
    TOOLS,
    entry,
    ideal_s,
    paired_rounds,
    rounds_line,
    run_tool,
    sandbox_flags,
)

LIMIT = 10
NAME = "shared_account"
#: Each of the told pair runs at half the account's limit.
TOLD_CONCURRENCY = LIMIT // 2
TOLD = f"raw loop told {TOLD_CONCURRENCY}"


def _pair(
    bench: Bench, tool: str, rows: int, ideal: float, *, concurrency: int = CONCURRENCY
) -> dict[str, Any]:
    """Two runs of ``tool`` at once, half the rows each, at ``concurrency`` each."""
    half = rows // 2
    jobs = [bench.job(half), bench.job(rows - half, first=half)]
    with bench.sandbox(bench.job(rows), *sandbox_flags(LIMIT)) as sandbox:
        sandbox.reset_stats()
        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(run_tool, bench, tool, job, sandbox, concurrency=concurrency)
                for job in jobs
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
        "later_s": times[-1],
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
    tools[TOLD] = _pair(bench, "raw_aiohttp", rows, ideal, concurrency=TOLD_CONCURRENCY)
    _over_told(tools)
    ours = [tools["bulkops"]]  # every round's bulkops pair, for the 429 and fairness goals
    errors: list[str] = list(tools["bulkops"]["errors"] + tools[TOLD]["errors"])

    def again(told_first: bool) -> tuple[float, float]:
        """One more round, in a fresh sandbox each: (bulkops's later time, the told pair's)."""
        pairs = {}
        for who in ("told", "ours") if told_first else ("ours", "told"):
            tool, width = (
                ("bulkops", CONCURRENCY) if who == "ours" else ("raw_aiohttp", TOLD_CONCURRENCY)
            )
            pairs[who] = _pair(bench, tool, rows, ideal, concurrency=width)
        ours.append(pairs["ours"])
        errors.extend(pairs["ours"]["errors"] + pairs["told"]["errors"])
        return pairs["ours"]["later_s"], pairs["told"]["later_s"]

    first = (tools["bulkops"]["later_s"], tools[TOLD]["later_s"])
    paired = paired_rounds(first, again, 1 if bench.quick else ROUNDS)
    paired["errors"] = errors
    return {
        "rows": rows,
        "limit": LIMIT,
        "ideal_s": ideal,
        "tools": tools,
        "paired": paired,
        "rounds": [_round(pair) for pair in ours],
        "goals": _goals(ours, paired, rows=rows, ideal=ideal),
    }


def _round(pair: dict[str, Any]) -> dict[str, Any]:
    """What the goals read of one round's bulkops pair."""
    keys = ("later_s", "later_over_earlier", "throttled_share", "succeeded", "errors")
    return {key: pair[key] for key in keys}


def _over_told(tools: dict[str, dict[str, Any]]) -> None:
    """Give each pair ``later_over_told``: its later time ÷ the told pair's later (s ÷ s)."""
    told = tools[TOLD]
    base = None if told["errors"] else told["later_s"]
    for t in tools.values():
        t["later_over_told"] = round(t["later_s"] / base, 3) if base else None


def _goals(
    ours: list[dict[str, Any]], paired: dict[str, Any], *, rows: int, ideal: float
) -> list[dict[str, Any]]:
    shares = [p["throttled_share"] for p in ours]
    fairness = [p["later_over_earlier"] for p in ours]
    worst_share = None if None in shares else max(shares)  # a missing figure is the worst
    worst_fairness = None if None in fairness else max(fairness)
    return [
        goal(
            "two processes: the later one's time ÷ ideal (median)",
            paired["median_ours_s"] / ideal,
            "<=",
            1.2,
        ),
        goal(
            "two processes: share of all requests answered 429 (worst round)",
            worst_share,
            "<=",
            0.03,
        ),
        goal("two processes: later ÷ earlier finish (worst round)", worst_fairness, "<=", 1.3),
        goal(
            "two processes: share of rows succeeded (worst round)",
            min(p["succeeded"] for p in ours) / rows,
            ">=",
            1.0,
        ),
        reported(
            "two processes: the told pair's later time ÷ ideal (median; unpaced starts)",
            paired["median_told_s"] / ideal,
        ),
        reported(
            "two processes: bulkops later time ÷ the told pair's later (median of rounds)",
            paired["median_ours_over_told"],
        ),
    ]


def markdown(section: dict[str, Any]) -> str:
    head = ["clients", "succeeded", "times s", "later ÷ ideal", "later ÷ told", "later ÷ earlier",
            "requests", "429 share", "peak in flight"]  # fmt: skip
    rows = [
        [
            f"2 × {tool}" + (f" ({'; '.join(t['errors'])})" if t["errors"] else ""),
            f"{t['succeeded']:,}/{t['rows']:,}",
            " / ".join(fmt(x, 2) for x in t["times_s"]),
            fmt(t["later_over_ideal"], 2),
            fmt(t.get("later_over_told"), 2),
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
        + rounds_line(section)
    )
