"""Run reports: percentiles, rows by latest record, torn and bad lines, text and JSON output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from support import mg, sc

from bulkops.commands.report import add_arguments, render_text
from bulkops.errors import Exit, JobFileError
from bulkops.journal import read_results, summarize, summary_path, to_json, write_summary_json
from bulkops.journal.summary import percentiles
from bulkops.model import Detail, ItemResult, Outcome


def record(line: int = 2, **overrides: Any) -> dict[str, Any]:
    """A result record as the journal writes it."""
    fields: dict[str, Any] = {
        "line": line,
        "op": "attach",
        "service_sid": mg(1),
        "sender_sid": sc(line),
        "outcome": Outcome.SUCCEEDED,
        "detail": Detail.ATTACHED,
        "http_status": 201,
        "attempts": 1,
        "elapsed_ms": 100.0,
        "finished_at": "2024-01-01T00:00:10.000Z",
    }
    fields.update(overrides)
    return ItemResult(**fields).to_record()


def write_log(path: Path, records: list[dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")
    return path


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
    assert "0 records over 0 rows" in render_text(report)


def test_read_results_skips_a_torn_last_line(tmp_path: Path) -> None:
    """A last line that is not JSON (a kill mid-write) is skipped and counted."""
    path = write_log(tmp_path / "out.jsonl", [record(2), record(3)], tail='{"line": 4, "op')
    reader = read_results(path)
    report = summarize(reader)
    assert report.rows == 2
    assert reader.torn_line == 3
    assert report.torn_lines == 1


def test_read_results_rejects_a_bad_line_in_the_middle(tmp_path: Path) -> None:
    """An unreadable line with records after it raises JobFileError naming that line."""
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps(record(2)) + "\nnot json\n\n" + json.dumps(record(3)) + "\n")
    with pytest.raises(JobFileError) as caught:
        list(read_results(path))
    assert caught.value.line == 2
    assert "invalid JSON" in caught.value.problem


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('["a list"]\n', 1),
        ('{"service_sid": "MG1", "op": "attach"}\n', 1),  # a JSON job file, not results
    ],
)
def test_read_results_rejects_what_is_not_a_record(tmp_path: Path, content: str, line: int) -> None:
    """Valid JSON that is not a result record is an error even on the last line."""
    path = tmp_path / "job.jsonl"
    path.write_text(content)
    with pytest.raises(JobFileError, match="not a result record") as caught:
        list(read_results(path))
    assert caught.value.line == line


def test_read_results_missing_file(tmp_path: Path) -> None:
    """A missing file raises JobFileError up front, without a line."""
    with pytest.raises(JobFileError, match="no such file") as caught:
        read_results(tmp_path / "nope.jsonl")
    assert caught.value.line is None


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
    ]
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


def test_render_text_shows_every_figure() -> None:
    """The text report names records over rows, details, attempts, 429s, rate, latency."""
    records = [
        record(2, outcome=Outcome.FAILED, detail=Detail.RETRIES_EXHAUSTED, attempts=6, throttled=6),
        record(2, attempts=2, throttled=1, elapsed_ms=250.0),
    ]
    text = render_text(summarize(records, duration_s=4.0))
    assert "2 records over 1 rows" in text
    assert "latest record" in text
    assert "attached" in text
    assert "retries_exhausted" not in text  # the row's latest record succeeded
    assert "7 answered 429" in text
    assert "2.0 calls/s" in text
    assert "p50" in text
    assert "p99" in text
    assert "4.0 s" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def run(argv: list[str]) -> object:
    """What ``bulkops report`` with ``argv`` returns."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(argv)
    result: object = args.handler(args)
    return result


def test_run_command_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``bulkops report LOG`` prints the table to stdout and exits 0."""
    path = write_log(tmp_path / "out.jsonl", [record(2), record(3)])
    assert run([str(path)]) is Exit.OK
    out, err = capsys.readouterr()
    assert "2 records over 2 rows" in out
    assert "succeeded" in out
    assert err == ""


def test_run_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--format json`` prints the JSON summary; a torn tail is a warning on stderr."""
    path = write_log(tmp_path / "out.jsonl", [record(2)], tail="{")
    assert run([str(path), "--format", "json"]) is Exit.OK
    out, err = capsys.readouterr()
    assert json.loads(out)["rows"] == 1
    assert f"{path}:2: skipped a torn last line" in err


def test_run_command_missing_file(tmp_path: Path) -> None:
    """A missing log raises JobFileError, which the CLI turns into exit 2."""
    with pytest.raises(JobFileError):
        run([str(tmp_path / "missing.jsonl")])


def test_run_command_reports_a_record_without_its_newline_as_torn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A last record lacking its newline is torn, as for --resume: warned about, not counted."""
    path = write_log(tmp_path / "out.jsonl", [record(2)], tail=json.dumps(record(3)))
    assert run([str(path), "--format", "json"]) is Exit.OK
    out, err = capsys.readouterr()
    assert (json.loads(out)["rows"], json.loads(out)["torn_lines"]) == (1, 1)
    assert f"{path}:2: skipped a torn last line" in err
