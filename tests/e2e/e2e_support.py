"""Helpers of the end-to-end tests: job files, and a run wired as ``bulkops run`` wires it.

Every run here talks to a :class:`~bulkops.sandbox.Sandbox` over real loopback
sockets: the engine, the aiohttp client and the result journal are the real
ones; only the engine's clock and sleep (by :class:`support.SkippingClock`, which
skips waits but still yields, so the sockets keep turning) and its jitter may be
replaced. SIDs come from :mod:`support`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
from support import SkippingClock

import bulkops
from bulkops.config import RunConfig
from bulkops.engine import EngineClock
from bulkops.logs import make_logger
from bulkops.model import SenderKind
from bulkops.sandbox import Sandbox

SHORT_CODE = SenderKind.SHORT_CODE


def fast_config(base_url: str, **changes: Any) -> RunConfig:
    """A run configuration with quick retries, a short settle period and no rate limit."""
    settings: dict[str, Any] = {
        "base_url": base_url,
        "concurrency": 8,
        "rate_per_s": 0.0,
        "max_attempts": 20,
        "timeout_s": 10.0,
        "backoff_initial_s": 0.01,
        "backoff_cap_s": 0.05,
        "settle_s": 0.05,
    }
    settings.update(changes)
    return RunConfig(**settings)


def write_job(path: Path, rows: Iterable[Sequence[str]]) -> Path:
    """A CSV job file with the ``op,service_sid,short_code_sid`` header; row i is line i + 2."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["op", "service_sid", "short_code_sid"])
        writer.writerows(rows)
    return path


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of a result log, in file order; none when the run never wrote it."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def file_text(path: Path) -> str:
    """A file's whole text ("" if it does not exist)."""
    return path.read_text(encoding="utf-8") if path.exists() else ""


def by_line(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Records keyed by job line; fails if any line has more than one record."""
    keyed = {r["line"]: r for r in records}
    assert len(keyed) == len(records), "a line has more than one record"
    return keyed


@dataclass
class RunOutcome:
    """What a run left behind: its records (file order) and its log events."""

    records: list[dict[str, Any]]
    events: list[dict[str, Any]]
    log: str
    #: Why the run stopped as a whole, if it did.
    aborted: str | None = None
    #: False when the pre-flight read could not reach the API (nothing sent or written).
    reached: bool = True

    def named(self, event: str) -> list[dict[str, Any]]:
        """The log events called ``event``, e.g. ``bulkops.item.retry``."""
        return [e for e in self.events if e.get("event") == event]


async def run_job(  # noqa: PLR0913 - a test helper: run_job's arguments plus test-only knobs
    sandbox: Sandbox,
    job: Path,
    results: Path,
    config: RunConfig,
    *,
    password: str | None = None,
    clock: SkippingClock | None = None,
    rand: Callable[[], float] | None = None,
) -> RunOutcome:
    """Run ``job`` against ``sandbox`` through :func:`bulkops.run_job`, as ``bulkops run`` does.

    ``password`` replaces the sandbox's auth token (to provoke a 401). The event
    log is kept as JSON lines at debug level. A run stopped as a whole is
    returned in the outcome (``aborted``), as the library returns it.
    """
    credentials = sandbox.credentials()
    if password is not None:
        credentials = replace(credentials, password=password)
    stream = io.StringIO()
    log = make_logger(json_format=True, verbose=True, secrets=credentials.secrets, stream=stream)
    engine_clock = EngineClock(
        sleep=clock.sleep if clock is not None else asyncio.sleep,
        monotonic=clock if clock is not None else None,
        rand=rand or random.random,
    )
    hooks = bulkops.RunHooks(log=log, clock=engine_clock)
    summary = await bulkops.run_job(
        job, config=config, credentials=credentials, results=results, hooks=hooks
    )
    text = stream.getvalue()
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    return RunOutcome(read_records(results), events, text, summary.aborted, summary.reached)


async def fetch_stats(sandbox: Sandbox) -> dict[str, Any]:
    """``GET /sandbox/stats`` over the socket."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.base_url}/sandbox/stats") as response,
    ):
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


def service_of(sandbox: Sandbox, sender_sid: str) -> str | None:
    """The service the sandbox's world has ``sender_sid`` attached to, if any."""
    return sandbox.world.senders[sender_sid].service_sid
