"""Before the first write: the numbers a job names are resolved under the run's ``--rate``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from support import FakeClock, mg, pn

from bulkops import prerun
from bulkops.config import Credentials, RunConfig
from bulkops.engine import EngineClock, EngineHooks
from bulkops.jobs import open_job
from bulkops.logs import make_logger
from bulkops.prerun import Ready, get_ready
from bulkops.twilio.wire import Listed, Request, Resource

OWNED = [f"+1415555{i:04d}" for i in range(12)]


class FakeTwilio:
    """Answers the pre-flight read, and lists the account's numbers 4 a page."""

    host = "api.example"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        #: (time, path) of each list call.
        self.listed: list[tuple[float, str]] = []

    async def send(self, request: Request) -> Any:
        return None  # any answer: the service exists

    async def list_page(
        self, url: str, listed: Listed | None = None
    ) -> tuple[list[Resource], str | None]:
        self.listed.append((self.clock(), url))
        page = int(url.rpartition("Page=")[2]) if "Page=" in url else 0
        items = [{"phone_number": n, "sid": pn(i)} for i, n in enumerate(OWNED) if i // 4 == page]
        if "PhoneNumber=" in url:  # a filtered GET
            return [i for i in items if i["phone_number"] in url.replace("%2B", "+")], None
        return items, (f"{url.partition('&Page=')[0]}&Page={page + 1}" if page < 2 else None)


def job_of(tmp_path: Path, numbers: list[str]) -> Path:
    path = tmp_path / "job.csv"
    path.write_text("service_sid,sender,op\n" + "".join(f"{mg(1)},{n},attach\n" for n in numbers))
    return path


async def ready_with(
    tmp_path: Path, numbers: list[str], rate: float
) -> tuple[Ready, FakeTwilio, FakeClock]:
    clock = FakeClock()
    api = FakeTwilio(clock)
    hooks = EngineHooks(
        log=make_logger(stream=io.StringIO()),
        clock=EngineClock(sleep=clock.sleep, monotonic=clock),
    )
    credentials = Credentials(username="AC1", password="x", account_sid="AC" + "1" * 32)
    ready = await get_ready(
        api,  # type: ignore[arg-type]
        open_job(job_of(tmp_path, numbers)),
        RunConfig(rate_per_s=rate),
        credentials,
        hooks,
    )
    ready.close()
    return ready, api, clock


@pytest.mark.asyncio
async def test_a_paged_listing_keeps_to_the_rate(tmp_path: Path) -> None:
    """12 numbers: the account's listing, 3 pages, each 1/rate after the one before."""
    ready, api, clock = await ready_with(tmp_path, OWNED, rate=10)
    starts = [t for t, _ in api.listed]
    assert starts == pytest.approx([0.1, 0.2, 0.3])  # the pre-flight read took 0 to 0.1
    assert ready.listing_calls == 3
    assert clock() == pytest.approx(0.4)  # the run's first call comes 1/rate after the last


@pytest.mark.asyncio
async def test_filtered_gets_run_at_once_still_keep_to_the_rate(tmp_path: Path) -> None:
    """3 numbers: 3 filtered GETs started together, each waiting its turn under the rate."""
    ready, api, clock = await ready_with(tmp_path, OWNED[:3], rate=10)
    assert ready.listing_calls == len(api.listed) == 3
    assert sorted(clock.waits) == pytest.approx([0.1] * 4)  # the pre-flight, then 3 turns
    assert clock() == pytest.approx(0.4)


@pytest.mark.asyncio
async def test_without_a_rate_nothing_waits(tmp_path: Path) -> None:
    """--rate 0: the listing calls are counted, never held back."""
    ready, _, clock = await ready_with(tmp_path, OWNED, rate=0)
    assert ready.listing_calls == 3
    assert clock.waits == []


def test_only_a_sid_column_promises_no_numbers(tmp_path: Path) -> None:
    """A CSV whose sender column takes SIDs only names no number; ``sender`` and JSONL may."""
    sids = tmp_path / "sids.csv"
    sids.write_text(f"service_sid,short_code_sid,op\n{mg(1)},SC{'0' * 32},attach\n")
    named = tmp_path / "jsonl.jsonl"
    named.write_text(f'{{"service_sid": "{mg(1)}", "short_code_sid": "SC{"0" * 32}"}}\n')
    assert open_job(sids).names_numbers is False
    assert open_job(job_of(tmp_path, OWNED[:1])).names_numbers is True
    assert open_job(named, default_op=None).names_numbers is True


@pytest.mark.asyncio
async def test_a_job_of_sids_is_not_read_for_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-run pass looking for numbers is skipped when the file can name none."""
    passes: list[int] = []
    real = prerun.numbers_named
    monkeypatch.setattr(prerun, "numbers_named", lambda items: passes.append(1) or real(items))
    path = tmp_path / "sids.csv"
    path.write_text(f"service_sid,short_code_sid,op\n{mg(1)},SC{'0' * 32},attach\n")
    clock = FakeClock()
    hooks = EngineHooks(
        log=make_logger(stream=io.StringIO()),
        clock=EngineClock(sleep=clock.sleep, monotonic=clock),
    )
    credentials = Credentials(username="AC1", password="x", account_sid="AC" + "1" * 32)
    for job, expected in ((path, []), (job_of(tmp_path, OWNED[:1]), [1])):
        passes.clear()
        ready = await get_ready(
            FakeTwilio(clock),  # type: ignore[arg-type]
            open_job(job),
            RunConfig(),
            credentials,
            hooks,
        )
        assert [row.sender for row in ready.rows] == [f"SC{'0' * 32}" if job == path else OWNED[0]]
        ready.close()
        assert passes == expected
