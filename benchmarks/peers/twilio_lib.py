"""Twilio's own Python library, async client, driven with a semaphore and ``asyncio.gather``.

Usage: ``python twilio_lib.py JOB.csv --concurrency N`` with ``BULKOPS_BASE_URL``,
``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` set. Attaches every row's short code
and prints one JSON line: rows, statuses, attempts, loop_s. The library does not
retry (its ``max_retries`` is off by default), so a 429 is a failed row here.
``environment={}`` keeps ``TWILIO_EDGE``/``TWILIO_REGION`` from redirecting it; the
Messaging domain's ``base_url`` points it at the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import time
from collections import Counter

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client


def read_rows(job: str) -> list[tuple[str, str]]:
    """(service SID, short code SID) of every row of a CSV job."""
    with open(job, newline="") as handle:
        return [(r["service_sid"], r["short_code_sid"]) for r in csv.DictReader(handle)]


async def main(rows: list[tuple[str, str]], concurrency: int) -> dict[str, object]:
    account_sid = os.environ["TWILIO_ACCOUNT_SID"]
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    http = AsyncTwilioHttpClient()  # its aiohttp session must be made inside the loop
    client = Client(
        account_sid,
        os.environ["TWILIO_AUTH_TOKEN"],
        account_sid=account_sid,
        http_client=http,
        environment={},
    )
    client.messaging.base_url = os.environ["BULKOPS_BASE_URL"].rstrip("/")
    semaphore = asyncio.Semaphore(concurrency)

    async def attach(service_sid: str, short_code_sid: str) -> None:
        async with semaphore:
            try:
                await client.messaging.v1.services(service_sid).short_codes.create_async(
                    short_code_sid=short_code_sid
                )
            except TwilioRestException as exc:
                statuses[exc.status] += 1
            else:
                statuses[201] += 1

    try:
        await asyncio.gather(*(attach(mg, sc) for mg, sc in rows))
    finally:
        await http.close()
    return {
        "rows": len(rows),
        "succeeded": statuses[201],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "attempts": len(rows),
        "loop_s": time.perf_counter() - started,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job")
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(read_rows(args.job), args.concurrency))))
