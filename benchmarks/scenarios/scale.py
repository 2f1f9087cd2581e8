"""Scale: memory that stays flat as jobs grow, and how fast rows are validated.

* A dry run (``--dry-run``, stdout to /dev/null) over a generated job of 1,000,000
  rows: peak RSS of the bulkops process (``os.wait4`` of that child alone) and
  rows ÷ wall time, start-up included: the validation rate.
* Real runs of 10,000 and 100,000 rows (``--rate 0``, latency-0 sandbox): peak RSS
  of each, and their ratio.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..jobs import write_job
from ..report import fmt, goal, table
from ..runner import Bench, failure, run_bulkops

NAME = "scale"


def run(bench: Bench) -> dict[str, Any]:
    dry_rows = 50_000 if bench.quick else 1_000_000
    small, large = (1_000, 5_000) if bench.quick else (10_000, 100_000)
    dry_job = write_job(bench.fresh(f"dry-{dry_rows}.csv"), dry_rows)
    dry = run_bulkops(bench, dry_job, None, "--dry-run", stdout_path=Path(os.devnull))
    dry_entry = {
        "rows": dry_rows,
        "job_mib": round(dry_job.stat().st_size / 2**20, 1),
        "error": failure(dry),
        "wall_s": round(dry.child.wall_s, 3),
        "cpu_s": round(dry.child.cpu_s, 3),
        "rows_per_s": round(dry_rows / dry.child.wall_s),
        "max_rss_mib": round(dry.child.max_rss_mib, 1),
    }
    dry_job.unlink()  # the largest file of the run; nothing else uses it
    real = []
    for rows in (small, large):
        job = bench.job(rows)
        with bench.sandbox(job) as sandbox:
            result = run_bulkops(bench, job, sandbox, "--rate", "0", "--concurrency", "32")
        real.append(
            {
                "rows": rows,
                "error": failure(result),
                "succeeded": result.succeeded,
                "loop_s": round(result.loop_s, 3),
                "calls_per_s": round(result.calls_per_s, 1),
                "max_rss_mib": round(result.child.max_rss_mib, 1),
            }
        )
    rss_ratio = real[1]["max_rss_mib"] / real[0]["max_rss_mib"] if real[0]["max_rss_mib"] else None
    return {
        "dry_run": dry_entry,
        "real": real,
        "rss_ratio": None if rss_ratio is None else round(rss_ratio, 3),
        "goals": [
            goal(f"scale: dry run of {dry_rows:,} rows, peak RSS MiB", dry_entry["max_rss_mib"],
                 "<=", 100),
            goal(f"scale: peak RSS {large:,} ÷ {small:,} rows", rss_ratio, "<=", 1.25),
        ],
    }  # fmt: skip


def markdown(section: dict[str, Any]) -> str:
    dry = section["dry_run"]
    rows = [
        [
            f"dry run ({dry['job_mib']} MiB job)" + (f" ({dry['error']})" if dry["error"] else ""),
            f"{dry['rows']:,}",
            fmt(dry["max_rss_mib"], 1),
            fmt(dry["wall_s"], 2),
            f"{dry['rows_per_s']:,} rows validated/s",
        ]
    ]
    for r in section["real"]:
        rows.append(
            [
                "real run, rate 0" + (f" ({r['error']})" if r["error"] else ""),
                f"{r['rows']:,} ({r['succeeded']:,} succeeded)",
                fmt(r["max_rss_mib"], 1),
                fmt(r["loop_s"], 2),
                f"{r['calls_per_s']:,.0f} calls/s",
            ]
        )
    return (
        "### 6. Scale\n\n"
        + table(["run", "rows", "peak RSS MiB", "time s", "rate"], rows)
        + f"\n\nPeak RSS, larger ÷ smaller real run: {fmt(section['rss_ratio'], 3)}."
    )
