"""The picture: requests per second over time, as the sandbox counted them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to a file only

import matplotlib.pyplot as plt


def requests_per_second(doc: dict[str, Any], path: Path) -> Path | None:
    """Draw rate fidelity and throttling side by side; None if neither scenario ran."""
    rate = doc["scenarios"].get("rate_fidelity")
    throttling = doc["scenarios"].get("throttling")
    if rate is None and throttling is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=100)
    if rate is not None:
        for i, r in enumerate(rate["runs"]):
            color = f"C{i}"
            timeline = r["timeline"]
            left.stairs(
                timeline,
                range(len(timeline) + 1),
                color=color,
                label=f"--rate {r['target_per_s']}: peak 1-s window {r['peak_per_second']}",
            )
            left.axhline(r["target_per_s"], color=color, linestyle=":", linewidth=1)
        left.set_yscale("log")
        left.set_ylim(bottom=10)
        left.set_title(f"Rate fidelity (latency {rate['latency_ms']} ± {rate['jitter_ms']} ms)")
        left.set_xlabel("second since start")
        left.set_ylabel("requests arriving at the sandbox per second (log)")
        left.legend(fontsize=8)
    if throttling is not None:
        for i, (tool, t) in enumerate(throttling["tools"].items()):
            color = f"C{i}"
            requests = t["timeline"]["requests"]
            throttled = t["timeline"]["throttled"]
            admitted = [a - b for a, b in zip(requests, throttled, strict=True)]
            edges = range(len(requests) + 1)
            right.stairs(requests, edges, color=color, label=f"{tool}: all requests")
            right.stairs(
                admitted, edges, color=color, linestyle="--", label=f"{tool}: admitted (not 429)"
            )
        capacity = throttling["max_in_flight"] * 1000 / throttling["latency_ms"]
        right.axhline(
            capacity, color="black", linestyle=":", linewidth=1, label=f"capacity {capacity:.0f}/s"
        )
        right.set_yscale("log")
        right.set_ylim(bottom=10)
        right.set_title(
            f"Throttling (max {throttling['max_in_flight']} in flight, "
            f"{throttling['latency_ms']} ms; clients at concurrency {throttling['concurrency']})"
        )
        right.set_xlabel("second since start")
        right.set_ylabel("requests per second at the sandbox (log)")
        right.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
