"""Throttling: 100 calls wanted in flight, 10 allowed; who finishes, how fast, at what cost?

The sandbox answers 429 (no Retry-After, as Twilio) while 10 requests are being
served, and holds each admitted one 20 ms, so no client can beat
``rows × 20 ms / 10``. Every client asks for concurrency 100 and retries the way
it naturally does: bulkops by its backoff, the hand-written loops after a fixed
50 ms sleep (at most ``RAW_MAX_ATTEMPTS`` tries), Twilio's library not at all (a
429 is a failed row). Reported: rows that succeeded, the loop time ÷ the ideal,
and the share of requests the sandbox refused.
"""

from __future__ import annotations

from typing import Any

from ..report import fmt, table
from ..runner import Bench, failure, run_tool

TOOLS = ("bulkops", "raw_aiohttp", "aiometer", "twilio_lib")
MAX_IN_FLIGHT, LATENCY_MS, CONCURRENCY = 10, 20, 100
RAW_MAX_ATTEMPTS = 200
NAME = "throttling"


def run(bench: Bench) -> dict[str, Any]:
    rows = 300 if bench.quick else 3000
    ideal_s = rows * LATENCY_MS / 1000 / MAX_IN_FLIGHT
    job = bench.job(rows)
    tools: dict[str, dict[str, Any]] = {}
    for tool in TOOLS:
        flags = ("--max-in-flight", str(MAX_IN_FLIGHT), "--latency-ms", str(LATENCY_MS))
        with bench.sandbox(job, *flags) as sandbox:
            sandbox.reset_stats()
            result = run_tool(
                bench, tool, job, sandbox, concurrency=CONCURRENCY, max_attempts=RAW_MAX_ATTEMPTS
            )
            stats = sandbox.stats()
        requests = stats["requests"]
        tools[tool] = {
            "error": failure(result),
            "succeeded": result.succeeded,
            "loop_s": round(result.loop_s, 3),
            "completion_ratio": round(result.loop_s / ideal_s, 3),
            "requests": requests,
            "throttled": stats["throttled"],
            "throttled_share": round(stats["throttled"] / requests, 4) if requests else None,
            "requests_per_row": round(requests / rows, 2),
            "peak_in_flight": stats["peak_in_flight"],
            "timeline": stats["per_second"],
            "run": result.summary(),
        }
    return {
        "rows": rows,
        "max_in_flight": MAX_IN_FLIGHT,
        "latency_ms": LATENCY_MS,
        "concurrency": CONCURRENCY,
        "ideal_s": ideal_s,
        "tools": tools,
        "goals": [],
    }


def markdown(section: dict[str, Any]) -> str:
    head = [
        "client", "succeeded", "time s", "time ÷ ideal", "requests", "429 share",
        "requests/row", "CPU s",
    ]  # fmt: skip
    rows = []
    for tool, t in section["tools"].items():
        rows.append(
            [
                tool + (f" ({t['error']})" if t["error"] else ""),
                f"{t['succeeded']:,}/{section['rows']:,}",
                fmt(t["loop_s"], 2),
                fmt(t["completion_ratio"], 2),
                f"{t['requests']:,}",
                fmt(t["throttled_share"], 3),
                fmt(t["requests_per_row"], 2),
                fmt(t["run"]["cpu_s"], 2),
            ]
        )
    return (
        f"### 4. Throttling (sandbox --max-in-flight {section['max_in_flight']}, latency "
        f"{section['latency_ms']} ms; clients at concurrency {section['concurrency']}, rate "
        f"unlimited; ideal {section['ideal_s']:.1f} s for {section['rows']:,} rows)\n\n"
        + table(head, rows)
    )
