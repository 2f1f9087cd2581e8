"""``python -m benchmarks.hotspots [--rows N] [--concurrency C]``: where bulkops spends its CPU.

Runs ``bulkops run`` (unthrottled, as in the overhead scenario) under py-spy
(``pip install py-spy``) against a sandbox process, and prints the functions
with the most samples, inclusive and self, line numbers folded. Writes the raw
collapsed stacks beside the temporary job and prints their path (feed them to
flamegraph.pl or speedscope for a picture).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from .runner import ROOT, Bench
from .sandbox import child_env

_LINE_NUMBER = re.compile(r":\d+\)$")


def top_functions(collapsed: Path, *, top: int) -> str:
    """Inclusive and self shares of the folded stacks in ``collapsed``."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [_LINE_NUMBER.sub(")", f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hotspots", description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bulkops-profile-"))
    bench = Bench(workdir=workdir, quick=False)
    job = bench.job(args.rows)
    collapsed = workdir / "bulkops.collapsed.txt"
    with bench.sandbox(job) as sandbox:
        subprocess.run(
            [
                py_spy, "record", "--rate", "500", "--format", "raw", "--output", str(collapsed),
                "--", sys.executable, "-m", "bulkops", "run", str(job), "--op", "attach",
                "--rate", "0", "--concurrency", str(args.concurrency),
                "--results", str(workdir / "results.jsonl"),
            ],
            env=child_env(sandbox.env), cwd=ROOT, check=True, timeout=600,
        )  # fmt: skip
    print(top_functions(collapsed, top=args.top))
    print(f"\ncollapsed stacks: {collapsed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
