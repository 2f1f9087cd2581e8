"""``bulkops report``: a result log as text tables, or as JSON; a torn tail warned about."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from support import ai, mg, pn, record, sc, write_log

from bulkops.commands.report import add_arguments, render_text
from bulkops.engine import RecordMaker
from bulkops.errors import Exit, JobFileError
from bulkops.jobs import open_job
from bulkops.journal import summarize
from bulkops.journal.reader import record_key
from bulkops.model import Detail, InvalidRow, Outcome, SenderKind


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


def test_render_text_of_an_empty_log() -> None:
    """A log without records renders as zero records over zero rows."""
    assert "0 records over 0 rows" in render_text(summarize([]))


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


def test_outcomes_are_broken_down_by_kind_each_row_by_its_latest_record() -> None:
    """Rows per kind and outcome: a phone number failed then succeeded counts once, succeeded."""
    phone = {"kind": SenderKind.PHONE_NUMBER, "sender_sid": pn(1), "sender": "+14155550100"}
    records = [
        record(2),
        record(3, **phone, outcome=Outcome.FAILED, detail=Detail.RETRIES_EXHAUSTED),
        record(3, **phone),
        record(4, kind=SenderKind.ALPHA_SENDER, sender="Acme", sender_sid=ai(1)),
        record(5, kind=SenderKind.ALPHA_SENDER, sender="Beta", sender_sid="",
               outcome=Outcome.INVALID, detail=Detail.INVALID_ROW),
    ]  # fmt: skip
    report = summarize(records)
    assert {k: dict(v) for k, v in report.kinds.items()} == {
        "short_code": {"succeeded": 1, "failed": 0, "invalid": 0, "skipped": 0},
        "phone_number": {"succeeded": 1, "failed": 0, "invalid": 0, "skipped": 0},
        "alpha_sender": {"succeeded": 1, "failed": 0, "invalid": 1, "skipped": 0},
    }
    lines = render_text(report).splitlines()
    (head,) = [line for line in lines if line.startswith("kind")]
    assert head.split() == ["kind", "succeeded", "failed", "invalid", "skipped"]
    assert any(line.split() == ["alpha_sender", "1", "0", "1", "0"] for line in lines)


def test_a_row_whose_kind_cannot_be_told_is_counted_under_unknown(tmp_path: Path) -> None:
    """An invalid row fitting no kind claims none: its record says "unknown", as its report line.

    Its record still keys as the row does, so ``--resume`` skips it as done.
    """
    job = tmp_path / "job.csv"
    job.write_text(f"service_sid,sender,op\n{mg(1)},{sc(1)},attach\n{mg(1)},not a sender!,attach\n")
    _, invalid = list(open_job(job).rows())
    assert isinstance(invalid, InvalidRow)
    assert invalid.kind is None
    records = RecordMaker(lambda: 0.0, lambda: "")
    written = records.invalid(invalid).to_record()
    assert (written["kind"], written["sender"]) == ("unknown", "not a sender!")
    assert "short_code_sid" not in written
    assert record_key(written) == invalid.key
    report = summarize([record(2, sender_sid=sc(1)), written])
    assert {k: dict(v) for k, v in report.kinds.items()} == {
        "short_code": {"succeeded": 1, "failed": 0, "invalid": 0, "skipped": 0},
        "unknown": {"succeeded": 0, "failed": 0, "invalid": 1, "skipped": 0},
    }
    lines = render_text(report).splitlines()
    assert any(line.split() == ["unknown", "0", "0", "1", "0"] for line in lines)
