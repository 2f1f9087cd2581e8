"""Run bulkops and the peer scripts as child processes against a sandbox, and read what they did.

bulkops runs through its CLI (``python -m bulkops run JOB ...``) with credentials
and base URL in the environment, exactly as a user runs it; its loop time comes
from the ``bulkops.run.started``/``bulkops.run.finished`` events of its JSON log,
and per-row outcomes and attempts from its results file. Each peer is a
standalone script in ``benchmarks/peers/`` that prints one JSON summary line.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .jobs import write_job
from .procs import ChildRun, run_child
from .sandbox import SandboxProcess, child_env

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path(__file__).resolve().parent / "peers"

#: Tool name → peer script; "bulkops" is the CLI itself.
PEER_SCRIPTS = {
    "raw_aiohttp": PEERS / "raw_aiohttp.py",
    "aiometer": PEERS / "aiometer_aiohttp.py",
    "twilio_lib": PEERS / "twilio_lib.py",
}
_SUMMARY = re.compile(r"bulkops: ([\d,]+) rows in ([\d.]+) s")


@dataclass(slots=True)
class Bench:
    """Where a benchmark run keeps its files, and how big it is."""

    workdir: Path
    quick: bool
    #: Seconds any one child may run before it is killed.
    child_timeout_s: float = 600.0
    _jobs: dict[tuple[int, str, int], Path] = field(default_factory=dict)
    _startup: dict[str, float] = field(default_factory=dict)
    _count: int = 0

    def job(self, rows: int, *, op: str = "attach", first: int = 0) -> Path:
        """A job file of rows ``first``.. of ``op`` (written once, then reused)."""
        key = (rows, op, first)
        if key not in self._jobs:
            name = f"{op}-{rows}.csv" if not first else f"{op}-{rows}-from-{first}.csv"
            self._jobs[key] = write_job(self.workdir / name, rows, op=op, first=first)
        return self._jobs[key]

    def startup_s(self, tool: str) -> float:
        """Wall seconds ``tool`` takes for a one-row job, start to exit (measured once)."""
        if tool not in self._startup:
            job = self.job(1)
            with self.sandbox(job) as sandbox:
                self._startup[tool] = run_tool(self, tool, job, sandbox, concurrency=1).child.wall_s
        return self._startup[tool]

    def fresh(self, stem: str) -> Path:
        """A new file name in the work directory."""
        self._count += 1
        return self.workdir / f"{self._count:03d}-{stem}"

    def sandbox(self, job: Path, *load_flags: str) -> SandboxProcess:
        """A sandbox process seeded from ``job`` with these load flags (use in ``with``)."""
        return SandboxProcess(job, self.workdir, load_flags, cwd=ROOT)


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One tool's run of one job."""

    tool: str
    child: ChildRun
    rows: int
    succeeded: int
    #: Tries made, all rows together.
    attempts: int
    #: Seconds from the tool's start of work (session opened) to its last answer.
    loop_s: float
    #: Final HTTP status per row (bulkops: per outcome detail).
    outcomes: dict[str, int]

    @property
    def calls_per_s(self) -> float:
        return self.rows / self.loop_s if self.loop_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "exit": self.child.returncode,
            "rows": self.rows,
            "succeeded": self.succeeded,
            "attempts": self.attempts,
            "loop_s": round(self.loop_s, 3),
            "wall_s": round(self.child.wall_s, 3),
            "cpu_s": round(self.child.cpu_s, 3),
            "max_rss_mib": round(self.child.max_rss_mib, 1),
            "outcomes": self.outcomes,
        }


def run_bulkops(
    bench: Bench,
    job: Path,
    sandbox: SandboxProcess | None,
    *flags: str,
    stdout_path: Path | None = None,
) -> ToolRun:
    """``bulkops run JOB --op attach --log-format json FLAGS`` against ``sandbox``."""
    results = bench.fresh("bulkops-results.jsonl")
    argv = [
        sys.executable, "-m", "bulkops", "run", str(job), "--op", "attach",
        "--results", str(results), "--log-format", "json", *flags,
    ]  # fmt: skip
    child = run_child(
        argv,
        env=child_env(sandbox.env if sandbox else {}),
        timeout_s=bench.child_timeout_s,
        cwd=bench.workdir,
        stdout_path=stdout_path,
        stderr_path=bench.fresh("bulkops.err"),
    )
    rows = succeeded = attempts = 0
    outcomes: Counter[str] = Counter()
    if results.exists():
        with open(results, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                rows += 1
                attempts += int(record.get("attempts") or 0)
                outcomes[f"{record['outcome']}.{record['detail']}"] += 1
                succeeded += record["outcome"] == "succeeded"
    return ToolRun(
        tool="bulkops",
        child=child,
        rows=rows,
        succeeded=succeeded,
        attempts=attempts,
        loop_s=_bulkops_loop_s(child.stderr),
        outcomes=dict(sorted(outcomes.items())),
    )


def _bulkops_loop_s(stderr: str) -> float:
    """Seconds between the run's started and finished log events (else its summary line)."""
    stamps: dict[str, datetime] = {}
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        name = event.get("event")
        if name in ("bulkops.run.started", "bulkops.run.finished") and "timestamp" in event:
            stamps[name] = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    if len(stamps) == 2:
        return (stamps["bulkops.run.finished"] - stamps["bulkops.run.started"]).total_seconds()
    found = _SUMMARY.search(stderr)
    return float(found.group(2)) if found else 0.0


def run_peer(  # noqa: PLR0913 - the run's place, then one keyword per command-line flag
    bench: Bench,
    tool: str,
    job: Path,
    sandbox: SandboxProcess,
    *,
    concurrency: int,
    max_attempts: int = 1,
) -> ToolRun:
    """One peer script on ``job``; raw loops retry 429s up to ``max_attempts`` tries."""
    argv = [sys.executable, str(PEER_SCRIPTS[tool]), str(job), "--concurrency", str(concurrency)]
    if tool != "twilio_lib":
        argv += ["--max-attempts", str(max_attempts)]
    child = run_child(
        argv,
        env=child_env(sandbox.env),
        timeout_s=bench.child_timeout_s,
        cwd=bench.workdir,
        stderr_path=bench.fresh(f"{tool}.err"),
    )
    lines = child.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if child.ok and lines else {}
    return ToolRun(
        tool=tool,
        child=child,
        rows=int(report.get("rows", 0)),
        succeeded=int(report.get("succeeded", 0)),
        attempts=int(report.get("attempts", 0)),
        loop_s=float(report.get("loop_s", 0.0)),
        outcomes=report.get("statuses", {}),
    )


def run_tool(  # noqa: PLR0913 - the run's place, then one keyword per command-line flag
    bench: Bench,
    tool: str,
    job: Path,
    sandbox: SandboxProcess,
    *,
    concurrency: int,
    max_attempts: int = 1,
) -> ToolRun:
    """bulkops (unthrottled, ``--concurrency``) or a peer, the same way for every tool."""
    if tool == "bulkops":
        return run_bulkops(bench, job, sandbox, "--rate", "0", "--concurrency", str(concurrency))
    return run_peer(bench, tool, job, sandbox, concurrency=concurrency, max_attempts=max_attempts)


def failure(run: ToolRun) -> str | None:
    """Why a run cannot be used, or None."""
    if run.child.returncode is None:
        return f"{run.tool} timed out after {run.child.wall_s:.0f} s"
    if run.tool != "bulkops" and not run.child.ok:
        return f"{run.tool} exited {run.child.returncode}: {run.child.stderr.strip()[-500:]}"
    if run.child.returncode not in (0, 1):  # bulkops: 1 = some rows failed
        return f"{run.tool} exited {run.child.returncode}: {run.child.stderr.strip()[-500:]}"
    return None
