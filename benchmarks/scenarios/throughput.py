"""Engine overhead and peers: the same attaches, unthrottled, by bulkops and by other clients.

Every tool makes the same ``rows`` attaches (10,000; real 201s: each run gets a
freshly seeded sandbox) 64 at once against a sandbox with no added latency, so
the client's own cost decides the pace. bulkops and the hand-written loop take
``repeats`` turns, alternating which goes first; aiometer and Twilio's library
one each. Medians are reported, and every figure is a ratio to another tool
measured in the same run. The bulkops ÷ raw ratios of throughput and of CPU per
call are medians of the ratios within each turn, so a slow minute on the
machine hits both.

* calls/s: rows ÷ the tool's own loop time (session opened to last answer).
* CPU per call: (CPU of the whole process − CPU of the same tool on a one-row
  job) ÷ (rows − 1), so start-up, imports (lazy ones too) and the first
  connection are counted once, apart, as the tool's fixed cost.
* server busy: the sandbox's CPU time ÷ the loop time; near 1.0 the server, not
  the client, sets the pace and the ratios understate client differences.
"""

from __future__ import annotations

from typing import Any

from ..report import fmt, goal, median, ratio, table
from ..runner import Bench, ToolRun, failure, run_tool

TOOLS = ("bulkops", "raw_aiohttp", "aiometer", "twilio_lib")
#: The two that take every turn; the other peers take one.
PAIRED = ("bulkops", "raw_aiohttp")
CONCURRENCY = 64
NAME = "throughput"
#: Turns of bulkops and the raw loop. One turn's ratio swings from 0.93 to 1.25 on
#: this 2-core VM (2026-11-30); the median of eight settles within a few per cent.
REPEATS = 8


def _measure(bench: Bench, tool: str, rows: int) -> tuple[ToolRun, dict[str, Any]]:
    job = bench.job(rows)
    with bench.sandbox(job) as sandbox:
        sandbox.reset_stats()
        cpu_before = sandbox.cpu_s()
        result = run_tool(bench, tool, job, sandbox, concurrency=CONCURRENCY)
        server_cpu_s = sandbox.cpu_s() - cpu_before
        stats = sandbox.stats()
    return result, {"server_cpu_s": server_cpu_s, "requests": stats["requests"]}


def _problem(result: ToolRun, server: dict[str, Any], rows: int) -> str | None:
    """Why a run cannot be counted, or None."""
    tool = result.tool
    if (problem := failure(result)) is not None:
        return problem
    if result.succeeded != rows:
        return f"{tool}: {result.succeeded}/{rows} rows succeeded: {result.outcomes}"
    if server["requests"] < rows:
        return f"{tool}: the sandbox saw {server['requests']} requests for {rows} rows"
    return None


def run(bench: Bench) -> dict[str, Any]:
    rows = 1000 if bench.quick else 10_000
    repeats = 1 if bench.quick else REPEATS
    startup: dict[str, list[ToolRun]] = {tool: [] for tool in TOOLS}
    samples: dict[str, list[tuple[ToolRun, dict[str, Any]]]] = {tool: [] for tool in TOOLS}
    errors: list[str] = []
    turns: list[dict[str, ToolRun]] = []  # bulkops and raw within each turn: robust to drift
    for rep in range(repeats):
        turn: dict[str, ToolRun] = {}
        turns.append(turn)
        order = PAIRED if rep % 2 == 0 else PAIRED[::-1]
        if rep == 0:
            order += tuple(tool for tool in TOOLS if tool not in PAIRED)
        for tool in order:
            if len(startup[tool]) < 3:
                startup[tool].append(_measure(bench, tool, 1)[0])
            result, server = _measure(bench, tool, rows)
            problem = _problem(result, server, rows)
            if problem is not None:
                errors.append(problem)
                continue
            samples[tool].append((result, server))
            turn[tool] = result
    tools: dict[str, dict[str, Any]] = {}
    for tool in TOOLS:
        runs = samples[tool]
        start_wall_s = median(r.child.wall_s for r in startup[tool])
        start_cpu_s = median(r.child.cpu_s for r in startup[tool])
        loop_s = median(r.loop_s for r, _ in runs)
        cpu_s = median(r.child.cpu_s for r, _ in runs)
        tools[tool] = {
            "runs": len(runs),
            "calls_per_s": round(rows / loop_s, 1) if loop_s else None,
            "loop_s": round(loop_s, 3),
            "wall_s": round(median(r.child.wall_s for r, _ in runs), 3),
            "cpu_s": round(cpu_s, 3),
            "cpu_ms_per_call": round(max(cpu_s - start_cpu_s, 0) / (rows - 1) * 1000, 4)
            if runs
            else None,
            "startup_wall_s": round(start_wall_s, 3),
            "startup_cpu_s": round(start_cpu_s, 3),
            "max_rss_mib": round(median(r.child.max_rss_mib for r, _ in runs), 1),
            "server_busy": round(median(s["server_cpu_s"] / r.loop_s for r, s in runs), 3)
            if runs
            else None,
            "sandbox_requests": runs[0][1]["requests"] if runs else None,
        }
    bulk = tools["bulkops"]
    for entry in tools.values():
        entry["calls_per_s_vs_bulkops"] = _ratio(entry["calls_per_s"], bulk["calls_per_s"])
        entry["cpu_per_call_vs_bulkops"] = _ratio(entry["cpu_ms_per_call"], bulk["cpu_ms_per_call"])
    raw = tools["raw_aiohttp"]
    both = [t for t in turns if "bulkops" in t and "raw_aiohttp" in t]
    paired = [t["bulkops"].calls_per_s / t["raw_aiohttp"].calls_per_s for t in both]
    cpu_paired = [
        (t["bulkops"].child.cpu_s - bulk["startup_cpu_s"])
        / (t["raw_aiohttp"].child.cpu_s - raw["startup_cpu_s"])
        for t in both
    ]
    throughput_ratio = round(median(paired), 3) if paired else None
    cpu_ratio = round(median(cpu_paired), 3) if cpu_paired else None
    return {
        "rows": rows,
        "concurrency": CONCURRENCY,
        "repeats": repeats,
        "tools": tools,
        "bulkops_vs_raw": {
            "throughput_ratio": throughput_ratio,
            "throughput_ratio_per_turn": [round(r, 3) for r in paired],
            "cpu_per_call_ratio": cpu_ratio,
            "cpu_per_call_ratio_per_turn": [round(r, 3) for r in cpu_paired],
            "cpu_per_call_ratio_of_medians": _ratio(
                bulk["cpu_ms_per_call"], raw["cpu_ms_per_call"]
            ),
            "wall_ratio": _ratio(bulk["wall_s"], raw["wall_s"]),
        },
        "errors": errors,
        "goals": [
            goal("overhead: bulkops ÷ raw aiohttp calls/s", throughput_ratio, ">=", 0.95),
            goal("overhead: bulkops ÷ raw aiohttp CPU per call", cpu_ratio, "<=", 1.1),
        ],
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    found = ratio(a, b)
    return None if found is None else round(found, 3)


def markdown(section: dict[str, Any]) -> str:
    head = [
        "client", "calls/s", "÷ bulkops", "CPU ms/call", "÷ bulkops", "1-row run s (CPU s)",
        "whole run s", "peak RSS MiB", "server busy",
    ]  # fmt: skip
    rows = [
        [
            tool,
            fmt(t["calls_per_s"]),
            fmt(t["calls_per_s_vs_bulkops"], 2),
            fmt(t["cpu_ms_per_call"], 3),
            fmt(t["cpu_per_call_vs_bulkops"], 2),
            f"{t['startup_wall_s']:.2f} ({t['startup_cpu_s']:.2f})",
            fmt(t["wall_s"], 2),
            fmt(t["max_rss_mib"], 0),
            fmt(t["server_busy"], 2),
        ]
        for tool, t in section["tools"].items()
    ]
    vs = section["bulkops_vs_raw"]
    lines = [
        f"### 2–3. Engine overhead and peers ({section['rows']:,} attaches, concurrency "
        f"{section['concurrency']}, sandbox latency 0, median of {section['repeats']})",
        "",
        table(head, rows),
        "",
        f"bulkops ÷ raw aiohttp: throughput {fmt(vs['throughput_ratio'], 3)}, CPU per call "
        f"{fmt(vs['cpu_per_call_ratio'], 3)}, whole run (start to exit) "
        f"{fmt(vs['wall_ratio'], 3)}× as long.",
    ]
    lines += [f"- error: {e}" for e in section["errors"]]
    return "\n".join(lines)
