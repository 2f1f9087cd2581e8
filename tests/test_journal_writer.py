"""The result journal's writer: JSON lines flushed at once, fsynced on an injected clock."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support import FakeClock, mg, result, sc

from bulkops.journal import ResultJournal, default_results_path
from bulkops.model import Detail, Outcome

FIELDS = {
    "line",
    "op",
    "service_sid",
    "kind",
    "sender",
    "sender_sid",
    "short_code_sid",
    "outcome",
    "detail",
    "http_status",
    "twilio_code",
    "throttled",
    "message",
    "attempts",
    "elapsed_ms",
    "finished_at",
}


def records(path: Path) -> list[dict[str, Any]]:
    """Every line of the file parsed as JSON; fails on a torn or non-JSON line."""
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace os.fsync as bulkops.journal.writer sees it; record the fds it was called with."""
    calls: list[int] = []
    monkeypatch.setattr("bulkops.journal.writer.os.fsync", calls.append)
    return calls


def test_each_record_is_one_json_line_with_the_documented_fields(tmp_path: Path) -> None:
    """record() appends one valid JSON object per row, with every documented field."""
    path = tmp_path / "out.jsonl"
    tricky = 'línea 1\nline "2"\u2028end'
    with ResultJournal(path) as journal:
        journal.record(result(2))
        journal.record(
            result(
                3,
                op="zap",
                outcome=Outcome.INVALID,
                detail=Detail.INVALID_ROW,
                http_status=None,
                attempts=0,
                message=tricky,
            )
        )
        journal.record(
            result(
                4,
                outcome=Outcome.FAILED,
                detail=Detail.POOL_FULL,
                http_status=400,
                twilio_code=21714,
                message="pool full",
                attempts=2,
            )
        )
    first, second, third = records(path)
    assert all(set(r) == FIELDS for r in (first, second, third))
    assert first == {
        "line": 2,
        "op": "attach",
        "service_sid": mg(1),
        "kind": "short_code",
        "sender": sc(2),
        "sender_sid": sc(2),
        "short_code_sid": sc(2),
        "outcome": "succeeded",
        "detail": "attached",
        "http_status": 201,
        "twilio_code": None,
        "message": None,
        "attempts": 1,
        "elapsed_ms": 100.0,
        "finished_at": "2024-01-01T00:00:10.000Z",
        "throttled": 0,
    }
    assert (second["outcome"], second["detail"], second["message"]) == (
        "invalid",
        "invalid_row",
        tricky,
    )
    assert (third["detail"], third["twilio_code"], third["attempts"]) == ("pool_full", 21714, 2)


def test_fetch_resource_fields_are_merged_into_the_record(tmp_path: Path) -> None:
    """A fetched resource's fields appear at the top level of its record."""
    path = tmp_path / "out.jsonl"
    resource = {"short_code": "12345", "country_code": "US", "capabilities": {"SmsInbound": True}}
    with ResultJournal(path) as journal:
        journal.record(
            result(op="fetch", detail=Detail.FETCHED, http_status=200, resource=resource)
        )
    (record,) = records(path)
    assert set(record) == FIELDS | set(resource)
    assert {k: record[k] for k in resource} == resource
    assert record["detail"] == "fetched"


def test_record_is_readable_from_another_handle_at_once(tmp_path: Path, fsyncs: list[int]) -> None:
    """Each record is flushed when written, before any close or fsync."""
    path = tmp_path / "out.jsonl"
    with ResultJournal(path, monotonic=FakeClock()) as journal:
        journal.record(result(2))
        assert [r["line"] for r in records(path)] == [2]
        journal.record(result(3))
        assert [r["line"] for r in records(path)] == [2, 3]
        assert fsyncs == []


def test_fsync_follows_the_injected_clock_and_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No fsync before the interval has passed, one when it has, and one on close."""
    path = tmp_path / "out.jsonl"
    clock = FakeClock(100.0)
    synced_lines: list[int] = []
    monkeypatch.setattr(
        "bulkops.journal.writer.os.fsync", lambda fd: synced_lines.append(len(records(path)))
    )
    with ResultJournal(path, fsync_interval_s=1.0, monotonic=clock) as journal:
        clock.now = 100.4
        journal.record(result(2))
        clock.now = 100.99
        journal.record(result(3))
        assert synced_lines == []
        clock.now = 101.0
        journal.record(result(4))
        assert synced_lines == [3]
        clock.now = 101.5
        journal.record(result(5))
        assert synced_lines == [3]
        clock.now = 102.0
        journal.record(result(6))
        assert synced_lines == [3, 5]
    assert synced_lines == [3, 5, 5]


def test_close_is_idempotent_and_closes_the_file(tmp_path: Path, fsyncs: list[int]) -> None:
    """close() fsyncs and closes once; a second close does nothing."""
    journal = ResultJournal(tmp_path / "out.jsonl", monotonic=FakeClock())
    with journal:
        journal.record(result())
    journal.close()
    assert len(fsyncs) == 1
    with pytest.raises(AssertionError, match="not open"):
        journal.record(result())


def test_journal_appends_to_an_existing_file(tmp_path: Path) -> None:
    """Opening an existing results file keeps its records and adds after them."""
    path = tmp_path / "out.jsonl"
    with ResultJournal(path) as journal:
        journal.record(result(2))
    with ResultJournal(path) as journal:
        journal.record(result(3))
    assert [r["line"] for r in records(path)] == [2, 3]


def test_journal_creates_missing_parent_directories(tmp_path: Path) -> None:
    """The results directory is created when it does not exist yet."""
    path = tmp_path / "results" / "deep" / "out.jsonl"
    with ResultJournal(path) as journal:
        journal.record(result())
    assert len(records(path)) == 1


def test_journal_counts_by_outcome_and_detail(tmp_path: Path) -> None:
    """counts tallies the records written by (outcome, detail)."""
    with ResultJournal(tmp_path / "out.jsonl") as journal:
        for line, (outcome, detail) in enumerate(
            [
                (Outcome.SUCCEEDED, Detail.ATTACHED),
                (Outcome.SUCCEEDED, Detail.ATTACHED),
                (Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED),
                (Outcome.FAILED, Detail.RETRIES_EXHAUSTED),
            ],
            start=2,
        ):
            journal.record(result(line, outcome=outcome, detail=detail))
    assert journal.counts == Counter(
        {
            (Outcome.SUCCEEDED, Detail.ATTACHED): 2,
            (Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED): 1,
            (Outcome.FAILED, Detail.RETRIES_EXHAUSTED): 1,
        }
    )


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ("attach-list.csv", "results/attach-list-20240229T235958Z.jsonl"),
        ("/data/jobs/senders.jsonl", "results/senders-20240229T235958Z.jsonl"),
        (Path("jobs/q1.v2.csv"), "results/q1.v2-20240229T235958Z.jsonl"),
    ],
)
def test_default_results_path(job: str | Path, expected: str) -> None:
    """results/<job stem>-<UTC timestamp YYYYmmddTHHMMSSZ>.jsonl."""
    now = time.struct_time((2024, 2, 29, 23, 59, 58, 3, 60, 0))
    assert default_results_path(job, now=now) == Path(expected)


def test_default_results_path_uses_utc_now_when_not_given() -> None:
    """Without an explicit time the stamp is the current UTC time."""
    before = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = default_results_path("job.csv")
    after = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    stamp = path.stem.removeprefix("job-")
    assert path.parent == Path("results")
    assert before <= stamp <= after
