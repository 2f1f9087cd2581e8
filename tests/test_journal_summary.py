"""The summary of a result log: percentiles, rows by latest record, duration, JSON, one line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from support import record, sc

from bulkops.journal import summarize, summary_line, summary_path, to_json, write_summary_json
from bulkops.journal.summary import percentiles
from bulkops.model import Detail, Outcome


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (list(range(1, 101)), (50.5, 95.05, 99.01)),
        ([10.0, 20.0], (15.0, 19.5, 19.9)),
        ([7.0], (7.0, 7.0, 7.0)),
        ([5.0, 1.0, 3.0, 2.0, 4.0], (3.0, 4.8, 4.96)),
        ([], None),
    ],
)
def test_percentiles(values: list[float], expected: tuple[float, ...] | None) -> None:
    """p50/p95/p99 interpolate between the closest ranks (statistics' inclusive method)."""
    got = percentiles(values)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_resumed_log_counts_each_row_by_its_latest_record() -> None:
    """A failed then succeeded row counts once as succeeded; attempts and 429s sum over records."""
    records = [
        record(2, outcome=Outcome.FAILED, detail=Detail.RETRIES_EXHAUSTED, attempts=6, throttled=6),
        record(3, attempts=2, throttled=1),
        record(2, attempts=1),
        record(4, outcome=Outcome.FAILED, detail=Detail.REJECTED, http_status=400),
    ]
    report = summarize(records)
    assert (report.records, report.rows) == (4, 3)
    assert dict(report.outcomes) == {"succeeded": 2, "failed": 1, "invalid": 0, "skipped": 0}
    assert dict(report.details) == {("succeeded", "attached"): 2, ("failed", "rejected"): 1}
    assert dict(report.attempts) == {1: 2, 2: 1, 6: 1}
    assert (report.calls, report.throttled) == (10, 7)
    assert report.latency.count == 4


def test_duplicates_and_invalid_rows_are_rows_of_their_own() -> None:
    """A skipped duplicate shares its row's key but is its own row; unsent rows have no latency."""
    dup = record(5, sender_sid=sc(2), outcome=Outcome.SKIPPED, detail=Detail.DUPLICATE, attempts=0)
    bad = record(6, outcome=Outcome.INVALID, detail=Detail.INVALID_ROW, attempts=0, elapsed_ms=0.0)
    report = summarize([record(2, elapsed_ms=40.0), dup, bad])
    assert report.rows == 3
    assert dict(report.outcomes) == {"succeeded": 1, "failed": 0, "invalid": 1, "skipped": 1}
    assert report.latency.count == 1
    assert report.latency.p99_ms == 40.0


def test_duration_from_records_and_from_the_run() -> None:
    """Duration runs from the earliest row start to the latest finish, unless the run says."""
    records = [
        record(2, elapsed_ms=500.0, finished_at="2024-01-01T00:00:01.000Z", attempts=2),
        record(3, elapsed_ms=100.0, finished_at="2024-01-01T00:00:04.500Z", attempts=2),
    ]
    derived = summarize(records)
    assert derived.duration_s == pytest.approx(4.0)
    assert derived.duration_from == "records"
    assert derived.started_at == "2024-01-01T00:00:00.500Z"
    assert derived.finished_at == "2024-01-01T00:00:04.500Z"
    assert derived.calls_per_s == pytest.approx(1.0)
    assert derived.rows_per_s == pytest.approx(0.5)
    measured = summarize(records, duration_s=8.0)
    assert (measured.duration_s, measured.duration_from) == (8.0, "run")
    assert measured.calls_per_s == pytest.approx(0.5)


def test_empty_log() -> None:
    """No records: zero rows, no latency, no duration, no rate."""
    report = summarize([])
    assert (report.rows, report.calls, report.duration_s, report.calls_per_s) == (0, 0, None, None)
    assert report.latency.p50_ms is None


def test_to_json_has_stable_keys() -> None:
    """The JSON summary always has the same keys, every outcome included."""
    data = to_json(summarize([record(2, attempts=3, throttled=2)], duration_s=2.0))
    assert list(data) == [
        "records",
        "rows",
        "outcomes",
        "details",
        "attempts",
        "calls",
        "throttled",
        "latency_ms",
        "duration_s",
        "duration_from",
        "started_at",
        "finished_at",
        "calls_per_s",
        "rows_per_s",
        "torn_lines",
        "kinds",
    ]
    assert data["kinds"] == {
        "short_code": {"succeeded": 1, "failed": 0, "invalid": 0, "skipped": 0}
    }
    assert list(data["outcomes"]) == ["succeeded", "failed", "invalid", "skipped"]
    assert data["details"]["succeeded"] == {"attached": 1}
    assert data["attempts"] == {"3": 1}
    assert list(data["latency_ms"]) == ["count", "p50", "p95", "p99"]
    assert data["calls_per_s"] == 1.5
    json.dumps(data)


def test_write_summary_json_keeps_the_old_summary_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary is replaced whole or not at all: a failed write leaves the old one alone."""
    results = tmp_path / "out.jsonl"
    old = write_summary_json(summarize([record(2)]), results).read_text()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("bulkops.journal.summary.json.dump", fail)
    with pytest.raises(OSError, match="disk full"):
        write_summary_json(summarize([record(2), record(3)]), results)
    assert summary_path(results).read_text() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.summary.json"]


def test_write_summary_json(tmp_path: Path) -> None:
    """``out.jsonl`` gets ``out.summary.json`` beside it, and no temporary file is left."""
    report = summarize([record(2)])
    path = write_summary_json(report, tmp_path / "out.jsonl")
    assert path == tmp_path / "out.summary.json" == summary_path(tmp_path / "out.jsonl")
    assert json.loads(path.read_text()) == to_json(report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.summary.json"]


@pytest.mark.parametrize(
    ("counts", "duration_s", "path", "expected"),
    [
        (
            {
                (Outcome.SUCCEEDED, Detail.ATTACHED): 1200,
                (Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED): 3,
                (Outcome.FAILED, Detail.POOL_FULL): 2,
                (Outcome.FAILED, Detail.RETRIES_EXHAUSTED): 5,
                (Outcome.INVALID, Detail.INVALID_ROW): 1,
            },
            5.0,
            Path("results/job-x.jsonl"),
            "1,211 rows in 5.0 s (242/s): 1,203 succeeded (1,200 attached, 3 already_attached); "
            "7 failed (5 retries_exhausted, 2 pool_full); 1 invalid (1 invalid_row). "
            "Results: results/job-x.jsonl",
        ),
        (
            {(Outcome.FAILED, Detail.REJECTED): 4, (Outcome.SUCCEEDED, Detail.DETACHED): 0},
            2.0,
            None,
            "4 rows in 2.0 s (2/s): 4 failed (4 rejected)",
        ),
        ({}, 0.0, None, "0 rows in 0.0 s (0/s): nothing to do"),
    ],
    ids=["mixed", "zero-counts-hidden", "empty"],
)
def test_summary_line(
    counts: dict[tuple[Outcome, Detail], int], duration_s: float, path: Path | None, expected: str
) -> None:
    """One readable line: totals per outcome, details by count, duration, rate, results path."""
    assert summary_line(Counter(counts), duration_s=duration_s, path=path) == expected
