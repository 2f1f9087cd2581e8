"""What the account-limit scenarios share: the ideal time, one measured run, the table.

Every scenario here holds each admitted request ``LATENCY_MS`` (40 ms, where
loopback overhead is small) and refuses with 429/20429 past the account's
limit, other traffic included; every answer carries Twilio-Concurrent-Requests.
"Ideal" is rows × 40 ms ÷ the slots the account has free (its limit minus other
traffic, integrated over time when that moves). A client's time is its whole
wall time minus its start-up (the same tool's one-row run, measured once per
benchmark): what is left is finding the limit, the calls and the 429s.
bulkops runs at ``--concurrency 100 --rate 0`` (the account's limit is what it
must find); the peers at concurrency 100 retry 429s as they naturally do (raw
loops: a fixed 50 ms sleep, at most 200 tries; Twilio's library: not at all).
A "told" client is the raw loop run at a concurrency someone who knew the
account's free slots would pick; "÷ told" is a client's time ÷ the told one's,
measured in the same run, so the machine's own latency is in both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..report import fmt, goal, median, table
from ..runner import Bench, ToolRun, failure, run_bulkops, run_peer

LATENCY_MS = 40
#: Rounds of bulkops against the told client where one run each swings by ±10 %
#: on this machine (the first round is the tables'); ``--quick``: one.
ROUNDS = 3
CONCURRENCY = 100
RAW_MAX_ATTEMPTS = 200
TOOLS = ("bulkops", "raw_aiohttp", "aiometer", "twilio_lib")
#: Other traffic over time: (seconds since the first request, requests in flight).
Schedule = Sequence[tuple[float, int]]


def ideal_s(rows: int, limit: int, schedule: Schedule = (), *, step_s: float = 0.001) -> float:
    """Seconds for ``rows`` calls of 40 ms in the slots other traffic leaves free."""
    work = rows * LATENCY_MS / 1000
    t = 0.0
    while work > 0:
        others = [n for at, n in schedule if at <= t]
        work -= max(0, limit - (others[-1] if others else 0)) * step_s
        t += step_s
    return round(t, 3)


def sandbox_flags(limit: int, *extra: str) -> tuple[str, ...]:
    return ("--max-in-flight", str(limit), "--latency-ms", str(LATENCY_MS), *extra)


def run_tool(bench: Bench, tool: str, job: Path, sandbox: Any, *, concurrency: int) -> ToolRun:
    """``tool`` on ``job`` against ``sandbox`` as these scenarios run it."""
    if tool == "bulkops":
        return run_bulkops(bench, job, sandbox, "--rate", "0", "--concurrency", str(concurrency))
    return run_peer(
        bench, tool, job, sandbox, concurrency=concurrency, max_attempts=RAW_MAX_ATTEMPTS
    )


def measure(  # noqa: PLR0913 - the run's place, then one keyword per knob of the scenario
    bench: Bench,
    tool: str,
    job: Path,
    flags: Sequence[str],
    *,
    rows: int,
    ideal: float,
    concurrency: int = CONCURRENCY,
) -> dict[str, Any]:
    """One run of ``tool`` against a fresh sandbox with ``flags``: time, 429s, what got done."""
    with bench.sandbox(job, *flags) as sandbox:
        sandbox.reset_stats()
        result = run_tool(bench, tool, job, sandbox, concurrency=concurrency)
        stats = sandbox.stats()
    return entry(bench, result, stats, rows=rows, ideal=ideal)


def entry(
    bench: Bench, result: ToolRun, stats: dict[str, Any], *, rows: int, ideal: float
) -> dict[str, Any]:
    """The figures of one run, as the scenarios report them."""
    startup = bench.startup_s(result.tool)
    time_s = max(result.child.wall_s - startup, 0.0)
    requests = stats["requests"]
    return {
        "error": failure(result),
        "succeeded": result.succeeded,
        "rows": rows,
        "wall_s": round(result.child.wall_s, 3),
        "startup_s": round(startup, 3),
        "time_s": round(time_s, 3),
        "time_over_ideal": round(time_s / ideal, 3),
        "requests": requests,
        "throttled": stats["throttled"],
        "throttled_share": round(stats["throttled"] / requests, 4) if requests else None,
        "peak_account_in_flight": stats.get("peak_account_in_flight"),
        "timeline": stats["per_second"],
        "run": result.summary(),
    }


def over_told(tools: dict[str, dict[str, Any]], told: str) -> None:
    """Give each entry ``time_over_told``: its time ÷ the ``told`` entry's (s ÷ s; that one 1.0).

    None throughout when the told run failed or took no time.
    """
    base = None if tools[told]["error"] else tools[told]["time_s"]
    for t in tools.values():
        t["time_over_told"] = round(t["time_s"] / base, 3) if base else None


def tools_table(tools: dict[str, dict[str, Any]]) -> str:
    """One row per client; "÷ told" shows ``–`` in a scenario with no told client."""
    head = ["client", "succeeded", "time s", "÷ ideal", "÷ told", "requests", "429 share",
            "peak in flight"]  # fmt: skip
    rows = [
        [
            name + (f" ({t['error']})" if t["error"] else ""),
            f"{t['succeeded']:,}/{t['rows']:,}",
            fmt(t["time_s"], 2),
            fmt(t["time_over_ideal"], 2),
            fmt(t.get("time_over_told"), 2),
            f"{t['requests']:,}",
            fmt(t["throttled_share"], 3),
            str(t["peak_account_in_flight"]),
        ]
        for name, t in tools.items()
    ]
    return table(head, rows)


def paired_rounds(
    first: tuple[float, float], again: Callable[[bool], tuple[float, float]], rounds: int
) -> dict[str, Any]:
    """bulkops's and the told client's times over ``rounds`` rounds, and the medians.

    ``first`` is (ours, told) of the round already run (ours went first);
    ``again(told_first)`` runs one more, in that order, and returns (ours, told)
    in seconds. The order alternates, so neither always runs on a warmer machine.
    Each round's ratio is taken within the round, then the median of those.
    """
    times = [first]
    times += [again(index % 2 == 1) for index in range(1, rounds)]
    ours = [o for o, _ in times]
    told = [t for _, t in times]
    ratios = [round(o / t, 3) for o, t in times if t > 0]
    return {
        "rounds": rounds,
        "ours_s": ours,
        "told_s": told,
        "ours_over_told": ratios,
        "median_ours_s": round(median(ours), 3),
        "median_told_s": round(median(told), 3),
        "median_ours_over_told": round(median(ratios), 3) if ratios else None,
    }


def measure_rounds(  # noqa: PLR0913 - the run's place, then one keyword per knob of the scenario
    bench: Bench,
    job: Path,
    flags: Sequence[str],
    *,
    rows: int,
    ideal: float,
    told: str,
    told_concurrency: int,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every tool once, the told loop (``told``, at ``told_concurrency``), then more rounds.

    Returns (the tools' entries, each with ``time_over_told``; the
    :func:`paired_rounds` of bulkops and the told loop). Each further round runs
    both again against a fresh sandbox with ``flags``; ``ROUNDS`` of them
    (``--quick``: the first only). The rounds also hold ``worst``: bulkops's
    highest 429 share and fewest rows succeeded, and the errors of any round.
    """
    tools = {tool: measure(bench, tool, job, flags, rows=rows, ideal=ideal) for tool in TOOLS}
    tools[told] = measure(
        bench, "raw_aiohttp", job, flags, rows=rows, ideal=ideal, concurrency=told_concurrency
    )
    over_told(tools, told)
    clients = {"ours": ("bulkops", CONCURRENCY), "told": ("raw_aiohttp", told_concurrency)}
    ours_runs, told_runs = [tools["bulkops"]], [tools[told]]

    def again(told_first: bool) -> tuple[float, float]:
        runs = {}
        for who in ("told", "ours") if told_first else ("ours", "told"):
            tool, width = clients[who]
            runs[who] = measure(bench, tool, job, flags, rows=rows, ideal=ideal, concurrency=width)
        ours_runs.append(runs["ours"])
        told_runs.append(runs["told"])
        return float(runs["ours"]["time_s"]), float(runs["told"]["time_s"])

    first = (tools["bulkops"]["time_s"], tools[told]["time_s"])
    paired = paired_rounds(first, again, 1 if bench.quick else ROUNDS)
    paired["worst"] = worst_round(ours_runs)
    paired["errors"] = [f"{r['error']}" for r in ours_runs + told_runs if r.get("error")]
    return tools, paired


def round_goals(
    name: str, paired: dict[str, Any], *, rows: int, ideal: float, limits: tuple[float, float]
) -> list[dict[str, Any]]:
    """The judged goals of a scenario run in rounds: median time ÷ ideal ≤ ``limits[0]``,
    the worst round's 429 share ≤ ``limits[1]``, every row in every round."""
    time_limit, share_limit = limits
    worst = paired["worst"]
    return [
        goal(f"{name}: bulkops time ÷ ideal (median)", paired["median_ours_s"] / ideal, "<=",
             time_limit),
        goal(f"{name}: share of requests answered 429 (worst round)", worst["throttled_share"],
             "<=", share_limit),
        goal(f"{name}: share of rows succeeded (worst round)", worst["succeeded"] / rows, ">=",
             1.0),
    ]  # fmt: skip


def worst_round(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """bulkops's worst round: the most 429s (a missing share counts as worst), fewest rows."""
    shares = [r["throttled_share"] for r in runs]
    return {
        "throttled_share": None if None in shares else max(shares),
        "succeeded": min(r["succeeded"] for r in runs),
        "errors": [r["error"] for r in runs if r.get("error")],
    }


def rounds_line(section: dict[str, Any]) -> str:
    """A sentence for a scenario's Markdown: each round's bulkops ÷ told, and the median."""
    paired = section["paired"]
    if paired["rounds"] < 2:
        return ""
    each = ", ".join(fmt(r, 2) for r in paired["ours_over_told"])
    errors = paired.get("errors") or []
    failed = (
        f" Rounds with errors (their times are in the medians): {'; '.join(errors)}."
        if errors
        else ""
    )
    return (
        f"\n\nbulkops ÷ told over {paired['rounds']} rounds (fresh sandbox each, order "
        f"alternating): {each}; median {fmt(paired['median_ours_over_told'], 3)}. The goals "
        f"use the medians.{failed}"
    )
