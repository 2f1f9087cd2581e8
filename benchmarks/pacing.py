"""``python -m benchmarks.pacing [--rows N] [--gap-ms G ...]``: why bulkops paces its starts.

A loop told the account's limit (10 in flight, 40 ms a call, as in scenario 7)
runs once starting each call the moment a slot frees, then once per ``--gap-ms``
with its starts at least that far apart. For each it prints the loop time ÷
ideal, the share of 429s, and how often the answers' ``Twilio-Concurrent-Requests``
(the account's requests in flight when the call arrived) said each count:
unpaced, the calls travel in bunches and the count is as often low as high;
paced, nearly every call arrives at a full account. About 40 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from .jobs import write_job
from .peers.raw_aiohttp import read_rows
from .runner import ROOT
from .sandbox import SandboxProcess

LIMIT = 10
LATENCY_MS = 40


async def told_loop(
    env: dict[str, str], rows: list[tuple[str, str]], gap_s: float
) -> tuple[float, Counter[int]]:
    """Every (service, short code) row attached by LIMIT workers, starts ``gap_s`` apart.

    ``gap_s`` 0: unpaced. Returns (loop seconds, how many answers carried each count).
    """
    base = env["BULKOPS_BASE_URL"].rstrip("/")
    token = base64.b64encode(f"{env['TWILIO_ACCOUNT_SID']}:{env['TWILIO_AUTH_TOKEN']}".encode())
    headers = {"Authorization": "Basic " + token.decode()}
    counts: Counter[int] = Counter()
    next_start = 0.0
    queue = iter(rows)
    started = time.perf_counter()
    async with aiohttp.ClientSession(
        headers=headers, connector=aiohttp.TCPConnector(limit=LIMIT)
    ) as s:

        async def worker() -> None:
            nonlocal next_start
            for service, sender in queue:
                while True:
                    now = time.perf_counter()
                    at = max(now, next_start)
                    next_start = at + gap_s if gap_s else now
                    if at > now:
                        await asyncio.sleep(at - now)
                    url = f"{base}/v1/Services/{service}/ShortCodes"
                    async with s.post(url, data={"ShortCodeSid": sender}) as answer:
                        await answer.read()
                        counts[int(answer.headers.get("Twilio-Concurrent-Requests", -1))] += 1
                        if answer.status != 429:
                            break

        await asyncio.gather(*(worker() for _ in range(LIMIT)))
    return time.perf_counter() - started, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--gap-ms", type=float, nargs="*", default=[3.4, 4.0])
    args = parser.parse_args()
    ideal_s = args.rows * LATENCY_MS / 1000 / LIMIT
    with tempfile.TemporaryDirectory(prefix="bulkops-pacing-") as tmp:
        work = Path(tmp)
        job = write_job(work / "job.csv", args.rows)
        rows = read_rows(str(job))
        for gap_ms in [0.0, *args.gap_ms]:
            flags = ("--max-in-flight", str(LIMIT), "--latency-ms", str(LATENCY_MS))
            with SandboxProcess(job, work, flags, cwd=ROOT) as sandbox:
                sandbox.reset_stats()
                loop_s, counts = asyncio.run(told_loop(sandbox.env, rows, gap_ms / 1000))
                stats = sandbox.stats()
            answers = sum(counts.values())
            full = counts[LIMIT] / answers if answers else 0.0
            shown = ", ".join(f"{n}: {counts[n]}" for n in sorted(counts))
            label = f"starts {gap_ms:g} ms apart" if gap_ms else "unpaced"
            print(
                f"{label:>22}: {loop_s / ideal_s:.3f}× ideal, "
                f"{stats['throttled'] / max(stats['requests'], 1):.1%} 429, "
                f"{full:.0%} of answers at {LIMIT}; counts {{{shown}}}"
            )


if __name__ == "__main__":
    main()
