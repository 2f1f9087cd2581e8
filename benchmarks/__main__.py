"""``python -m benchmarks [--quick] [--only NAME ...]``: run the scenarios, print a report.

Each scenario starts its own sandbox process(es) and runs the clients as child
processes; the Markdown report goes to stdout, progress to stderr, and the
figures to ``benchmarks/results/latest.json`` (``quick.json`` with ``--quick``)
with a plot beside it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import plot, report
from .runner import ROOT, Bench
from .scenarios import (
    faults,
    fixed_limit,
    moving_limit,
    rate,
    retry_after,
    scale,
    shared_account,
    throttling,
    throughput,
)

SCENARIOS = {
    module.NAME: module
    for module in (
        rate, throughput, throttling, faults, scale,
        fixed_limit, moving_limit, retry_after, shared_account,
    )
}  # fmt: skip
RESULTS = Path(__file__).resolve().parent / "results"
_PACKAGES = ("bulkops", "aiohttp", "aiolimiter", "anyio", "twilio", "aiometer", "psutil")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run (under a minute)")
    parser.add_argument(
        "--only", action="append", choices=list(SCENARIOS), metavar="NAME",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )  # fmt: skip
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS, help=f"where to write (default {RESULTS})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = parser.parse_args(argv)

    stem = "quick" if args.quick else "latest"
    started = time.monotonic()
    doc: dict[str, Any] = {"generated_at": _now(), "quick": args.quick, "machine": _machine()}
    doc["scenarios"] = {}
    failed = False
    workdir = Path(tempfile.mkdtemp(prefix="bulkops-bench-"))
    try:
        bench = Bench(workdir=workdir, quick=args.quick, child_timeout_s=120 if args.quick else 600)
        for name in args.only or list(SCENARIOS):
            _progress(f"{name}…")
            t0 = time.monotonic()
            try:
                section = SCENARIOS[name].run(bench)
            except Exception:
                failed = True
                section = {"crashed": True, "error": traceback.format_exc(limit=5), "goals": []}
                _progress(section["error"])
            section["scenario_s"] = round(time.monotonic() - t0, 1)
            doc["scenarios"][name] = section
            _progress(f"{name}: {section['scenario_s']} s")
    finally:
        if args.keep:
            _progress(f"work files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    doc["duration_s"] = round(time.monotonic() - started, 1)
    doc["goals"] = [g for s in doc["scenarios"].values() for g in s.get("goals", [])]
    picture = plot.requests_per_second(
        doc, args.results_dir / ("requests_per_second.png" if not args.quick else f"{stem}.png")
    )
    limits_png = "account_limits.png" if not args.quick else f"{stem}.account_limits.png"
    account_picture = plot.account_limits(doc, args.results_dir / limits_png)
    report.write_json(args.results_dir / f"{stem}.json", doc)
    print(_markdown(doc, picture, account_picture))
    return 1 if failed else 0


def _markdown(doc: dict[str, Any], picture: Path | None, account_picture: Path | None) -> str:
    machine = doc["machine"]
    parts = [
        f"## bulkops benchmarks{' (quick)' if doc['quick'] else ''}",
        "",
        f"{doc['generated_at']}, {machine['cpus']} CPUs, load average {machine['loadavg']} at "
        f"start, Python {machine['python']}, bulkops {machine['packages'].get('bulkops')} "
        f"({machine['git']}); {doc['duration_s']} s. Figures are ratios between runs made "
        "side by side in this one run on a shared machine; absolute numbers drift.",
    ]
    for name, section in doc["scenarios"].items():
        parts.append("")
        if section.get("crashed"):
            parts.append(f"### {name}: the harness failed\n\n```\n{section['error']}```")
        else:
            parts.append(SCENARIOS[name].markdown(section))
    parts += ["", "### Goals", "", report.goals_table(doc["goals"])]
    if picture is not None:
        parts += ["", f"Requests per second over time: {_shown(picture)}"]
    if account_picture is not None:
        parts += ["", f"The account scenarios, per second: {_shown(account_picture)}"]
    return "\n".join(parts)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _machine() -> dict[str, Any]:
    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "cpus": os.cpu_count(),
        "loadavg": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": packages,
        "git": _git_state(),
    }


def _git_state() -> str:
    """The checked-out commit, marked ``+dirty`` if bulkops/ has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bulkops"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown commit"
    return commit + ("+dirty" if dirty else "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _progress(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
