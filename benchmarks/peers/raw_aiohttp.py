"""The loop a user writes by hand: aiohttp, a semaphore, ``asyncio.gather``.

Usage: ``python raw_aiohttp.py JOB.csv --concurrency N [--max-attempts K]`` with
``BULKOPS_BASE_URL``, ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` set. Attaches
every row's short code and prints one JSON line: rows, statuses, attempts, loop_s.
A 429 is retried after a fixed short sleep, up to ``--max-attempts`` tries.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import time
from collections import Counter

import aiohttp

RETRY_SLEEP_S = 0.05


def read_rows(job: str) -> list[tuple[str, str]]:
    """(service SID, short code SID) of every row of a CSV job."""
    with open(job, newline="") as handle:
        return [(r["service_sid"], r["short_code_sid"]) for r in csv.DictReader(handle)]


async def main(
    rows: list[tuple[str, str]], concurrency: int, max_attempts: int
) -> dict[str, object]:
    base = os.environ["BULKOPS_BASE_URL"].rstrip("/")
    auth = aiohttp.BasicAuth(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
    statuses: Counter[int] = Counter()
    attempts = 0
    started = time.perf_counter()
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(auth=auth, connector=connector) as session:

        async def attach(service_sid: str, short_code_sid: str) -> None:
            nonlocal attempts
            url = f"{base}/v1/Services/{service_sid}/ShortCodes"
            async with semaphore:
                for _ in range(max_attempts):
                    attempts += 1
                    try:
                        async with session.post(url, data={"ShortCodeSid": short_code_sid}) as r:
                            await r.read()
                            status = r.status
                    except aiohttp.ClientError:
                        status = 0  # no answer: a failed row, not retried
                    if status != 429:
                        break
                    await asyncio.sleep(RETRY_SLEEP_S)
            statuses[status] += 1

        await asyncio.gather(*(attach(mg, sc) for mg, sc in rows))
    return {
        "rows": len(rows),
        "succeeded": statuses[201],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "attempts": attempts,
        "loop_s": time.perf_counter() - started,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--max-attempts", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(read_rows(args.job), args.concurrency, args.max_attempts))))
