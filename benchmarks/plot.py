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


ACCOUNT_SCENARIOS = ("fixed_limit", "moving_limit", "retry_after", "shared_account")


def account_limits(doc: dict[str, Any], path: Path) -> Path | None:
    """Admitted requests and 429s per second in the account scenarios; None if none ran."""
    sections = [(n, doc["scenarios"][n]) for n in ACCOUNT_SCENARIOS if n in doc["scenarios"]]
    sections = [(n, s) for n, s in sections if not s.get("crashed")]
    if not sections:
        return None
    fig, axes = plt.subplots(1, len(sections), figsize=(5 * len(sections), 4.5), dpi=100)
    axes = [axes] if len(sections) == 1 else list(axes)
    for ax, (name, section) in zip(axes, sections, strict=True):
        for i, tool in enumerate(("bulkops", "raw_aiohttp")):
            timeline = section["tools"][tool]["timeline"]
            requests, throttled = timeline["requests"], timeline["throttled"]
            admitted = [a - b for a, b in zip(requests, throttled, strict=True)]
            edges = range(len(requests) + 1)
            ax.stairs(admitted, edges, color=f"C{i}", label=f"{tool}: admitted")
            ax.stairs(throttled, edges, color=f"C{i}", linestyle="--", label=f"{tool}: 429s")
        capacity = section["limit"] * 1000 / 40
        ax.axhline(capacity, color="black", linestyle=":", linewidth=1, label="account's capacity")
        ax.set_yscale("symlog", linthresh=10)
        ax.set_title(f"{name.replace('_', ' ')} (limit {section['limit']})", fontsize=10)
        ax.set_xlabel("second since start")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("requests per second at the sandbox")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
