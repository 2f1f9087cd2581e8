"""Rate fidelity: does bulkops go as fast as ``--rate`` allows, and never faster?

bulkops runs through its CLI at 50, 200 and 1,000 calls/s against a sandbox that
holds each answer 50 ± 20 ms. The sandbox counts arrivals per second: the mean of
the full seconds between the first and the last gives the sustained rate, and its
sliding one-second window gives the most requests in any second (a start-up burst
shows there). The job time is set against the ideal ``rows / rate``.
"""

from __future__ import annotations

import math
from typing import Any

from ..report import fmt, goal, ratio, table
from ..runner import Bench, failure, run_bulkops

TARGETS_PER_S = (50, 200, 1000)
LATENCY_MS, JITTER_MS = 50, 20
NAME = "rate_fidelity"


def sustained_per_s(timeline: list[int]) -> float | None:
    """Mean requests of the full seconds strictly between the first and last busy ones."""
    busy = [i for i, n in enumerate(timeline) if n]
    if len(busy) < 3:
        return None
    inner = timeline[busy[0] + 1 : busy[-1]]
    return sum(inner) / len(inner)


def run(bench: Bench) -> dict[str, Any]:
    seconds = 1.6 if bench.quick else 5.0
    runs, goals = [], []
    for target in TARGETS_PER_S:
        rows = math.ceil(target * seconds)
        # enough calls in flight to keep the rate through the slowest answers, twice over
        concurrency = max(16, math.ceil(2 * target * (LATENCY_MS + JITTER_MS) / 1000))
        job = bench.job(rows)
        flags = ("--latency-ms", str(LATENCY_MS), "--latency-jitter-ms", str(JITTER_MS))
        with bench.sandbox(job, *flags, "--seed", "1") as sandbox:
            sandbox.reset_stats()
            result = run_bulkops(
                bench, job, sandbox, "--rate", str(target), "--concurrency", str(concurrency)
            )
            stats = sandbox.stats()
        timeline = stats["per_second"]["requests"]
        sustained = sustained_per_s(timeline)
        overall = result.calls_per_s
        achieved = sustained if sustained is not None else overall
        peak = stats["peak_per_second"]
        runs.append(
            {
                "target_per_s": target,
                "rows": rows,
                "concurrency": concurrency,
                "error": failure(result),
                "succeeded": result.succeeded,
                "requests": stats["requests"],
                "sustained_per_s": None if sustained is None else round(sustained, 1),
                "overall_per_s": round(overall, 1),
                "achieved_ratio": round(achieved / target, 4),
                "job_time_ratio": round(result.loop_s / (rows / target), 4),
                "peak_per_second": peak,
                "peak_ratio": round(peak / target, 4),
                "timeline": timeline,
                "bulkops": result.summary(),
            }
        )
        goals.append(goal(f"rate {target}/s: sustained ÷ target", achieved / target, ">=", 0.98))
        goals.append(goal(f"rate {target}/s: peak 1-s window ÷ target", peak / target, "<=", 1.01))
    return {
        "latency_ms": LATENCY_MS,
        "jitter_ms": JITTER_MS,
        "seconds_per_rate": seconds,
        "runs": runs,
        "goals": goals,
    }


def markdown(section: dict[str, Any]) -> str:
    rows = [
        [
            f"{r['target_per_s']:,}",
            f"{r['rows']:,}",
            str(r["concurrency"]),
            fmt(r["sustained_per_s"], 1),
            fmt(r["achieved_ratio"], 3),
            fmt(r["overall_per_s"], 1),
            f"{r['peak_per_second']:,}",
            fmt(r["peak_ratio"], 3),
            fmt(ratio(r["bulkops"]["loop_s"], r["rows"] / r["target_per_s"]), 3),
            f"{r['succeeded']:,}/{r['rows']:,}",
        ]
        for r in section["runs"]
    ]
    head = [
        "target/s", "rows", "concurrency", "sustained/s", "sustained ÷ target", "rows ÷ job time",
        "peak 1-s window", "peak ÷ target", "job time ÷ ideal", "succeeded",
    ]  # fmt: skip
    return (
        f"### 1. Rate fidelity (bulkops CLI; sandbox latency {section['latency_ms']} "
        f"± {section['jitter_ms']} ms)\n\n" + table(head, rows)
    )
