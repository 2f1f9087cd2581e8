"""``python -m benchmarks.own_cpu [--rows N] [--repeats K]``: bulkops's own CPU per row.

Runs ``bulkops run`` (unthrottled, 64 at once, as in the overhead scenario) in
a child process whose ``TwilioClient.send`` is replaced by a coroutine that
answers every call at once (201, or 200 for the pre-flight read): no network,
no aiohttp request path, no call timeout. What is left is bulkops itself:
reading and checking the job, the feed, the engine and its controller, the
records, the journal, the tally and the progress display. Prints the CPU of a
run of ``rows`` less that of a one-row run (start-up and imports), divided by
``rows - 1``, median of ``repeats`` alternating pairs. This is how
``benchmarks/README.md``'s "second pass" measured 62 → 50 µs a row.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .jobs import write_job
from .runner import ROOT

_CREDENTIALS = {
    "BULKOPS_BASE_URL": "http://127.0.0.1:9",  # never asked: send is replaced
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "own-cpu-benchmark-token",
}


def _child(job: str, results: str) -> None:
    """In the child: the CLI run with every call answered at once; prints its CPU seconds."""
    from bulkops.commands.cli import main
    from bulkops.twilio import client
    from bulkops.twilio.wire import Reply

    async def answered(self: Any, request: Any, *, read_body: bool = True) -> Reply:
        await asyncio.sleep(0)  # a call suspends at least once
        if request.method == "POST":
            return Reply(201, {"sid": "SC" + "0" * 32} if read_body else None, 1)
        return Reply(200, {"sid": "MG" + "0" * 32}, 1)

    client.TwilioClient.send = answered  # type: ignore[method-assign]
    started = time.process_time()
    with contextlib.suppress(SystemExit):  # the CLI's exit code: the records tell
        main(["run", job, "--op", "attach", "--rate", "0", "--concurrency", "64",
              "--results", results, "-q"])  # fmt: skip
    print(f"{time.process_time() - started:.6f}")


def _cpu_s(job: Path, workdir: Path, n: int) -> float:
    results = workdir / f"results-{n}.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.own_cpu", "--child", str(job), str(results)],
        env={**os.environ, **_CREDENTIALS}, cwd=ROOT, capture_output=True, text=True,
        check=True, timeout=600,
    )  # fmt: skip
    rows = sum(1 for line in job.open(encoding="utf-8")) - 1
    with results.open(encoding="utf-8") as handle:
        recorded = sum(1 for line in handle if '"outcome":"succeeded"' in line)
    if recorded != rows:  # a run that stopped early would look cheap
        raise SystemExit(f"{job.name}: {recorded} of {rows} rows succeeded; see {results}")
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.own_cpu", description=__doc__)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("JOB", "RESULTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bulkops-own-cpu-"))
    big, one = write_job(workdir / "big.csv", args.rows), write_job(workdir / "one.csv", 1)
    runs: list[tuple[float, float]] = []
    for n in range(args.repeats):
        pair = (big, one) if n % 2 == 0 else (one, big)
        cpu = {job: _cpu_s(job, workdir, 2 * n + k) for k, job in enumerate(pair)}
        runs.append((cpu[big], cpu[one]))
    per_row_us = [(b - o) / (args.rows - 1) * 1e6 for b, o in runs]
    print(
        f"bulkops's own CPU: {statistics.median(per_row_us):.1f} µs a row "
        f"(median of {args.repeats}; each: {', '.join(f'{x:.1f}' for x in per_row_us)}), "
        f"{args.rows:,} rows, start-up {statistics.median(o for _, o in runs):.2f} s CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
