"""The journal's crash safety: one torn-line rule for repair, resume and report; failed rows."""

from __future__ import annotations

import asyncio
import errno
import json
import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import FakeClock, ai, mg, pn, record, sc, write_log

from bulkops import jobs
from bulkops.errors import JobFileError, UsageError
from bulkops.journal import (
    ResultJournal,
    Tally,
    check_results_path,
    failed_path,
    read_done_keys,
    read_results,
    report_of,
    summarize,
)
from bulkops.journal.line import record_line
from bulkops.journal.writer import repair_torn_tail
from bulkops.keys import key_digest
from bulkops.model import Detail, ItemResult, Op, Outcome, Row, SenderKind
from bulkops.twilio.codes import TwilioCode


def result(line: int, outcome: Outcome, detail: Detail, *, op: str = "attach") -> ItemResult:
    return ItemResult(line, op, mg(1), sc(line), outcome, detail)


def test_a_torn_last_line_is_cut_before_appending(tmp_path: Path) -> None:
    """A record half-written by a killed process is removed; every line then parses."""
    path = tmp_path / "r.jsonl"
    path.write_text('{"line":2,"outcome":"succeeded"}\n{"line":3,"outc', encoding="utf-8")
    with ResultJournal(path) as journal:
        journal.record(result(4, Outcome.SUCCEEDED, Detail.ATTACHED))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["line"] for line in lines] == [2, 4]
    assert journal.repaired_bytes == len('{"line":3,"outc')


@pytest.mark.parametrize("text", ["", '{"a":1}\n', '{"a":1}\n{"b":2}\n'])
def test_a_whole_file_is_left_alone(tmp_path: Path, text: str) -> None:
    """A file that ends with a newline (or is empty) loses nothing."""
    path = tmp_path / "r.jsonl"
    path.write_text(text, encoding="utf-8")
    assert repair_torn_tail(path) == 0
    assert path.read_text(encoding="utf-8") == text


def test_a_file_of_one_torn_line_is_emptied(tmp_path: Path) -> None:
    """With no newline at all, the whole content is the torn record."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"line":2' + b"x" * 100_000)
    assert repair_torn_tail(path) == 100_009
    assert path.read_bytes() == b""


def test_done_keys_are_succeeded_and_invalid_rows_only(tmp_path: Path) -> None:
    """A resume skips succeeded and invalid rows; failed and skipped ones run again."""
    path = tmp_path / "r.jsonl"
    with ResultJournal(path) as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        journal.record(result(3, Outcome.FAILED, Detail.POOL_FULL))
        journal.record(result(4, Outcome.INVALID, Detail.INVALID_ROW))
        journal.record(result(5, Outcome.SKIPPED, Detail.DUPLICATE))
    done = read_done_keys(path)
    assert set(done) == {key_digest(("attach", mg(1), "short_code", sc(n), "")) for n in (2, 4)}


def test_done_keys_match_the_rows_of_the_job(tmp_path: Path) -> None:
    """A record's key equals the key of the row it came from, by content not line."""
    job = tmp_path / "job.csv"
    job.write_text(f"service_sid,short_code_sid,op\n\n{mg(1)},{sc(7)},attach\n", encoding="utf-8")
    (row,) = jobs.open_job(job).rows()
    assert isinstance(row, Row)
    assert row.line == 3
    path = tmp_path / "r.jsonl"
    with ResultJournal(path) as journal:  # recorded when the row sat on line 2
        journal.record(ItemResult(2, Op.ATTACH.value, mg(1), sc(7), Outcome.SUCCEEDED,
                                  Detail.ATTACHED))  # fmt: skip
    assert set(read_done_keys(path)) == {key_digest(row.key)}


def test_done_keys_ignore_a_torn_last_line_but_not_a_broken_middle(tmp_path: Path) -> None:
    """A torn tail is expected after kill -9; a bad line in the middle is an error."""
    path = tmp_path / "r.jsonl"
    good = json.dumps(result(2, Outcome.SUCCEEDED, Detail.ATTACHED).to_record())
    path.write_text(good + "\n" + '{"torn', encoding="utf-8")
    assert len(read_done_keys(path)) == 1
    path.write_text('{"torn\n' + good + "\n", encoding="utf-8")
    with pytest.raises(JobFileError, match=":1: not a result record"):
        read_done_keys(path)


def test_a_missing_results_file_means_nothing_is_done(tmp_path: Path) -> None:
    """--resume on a first run simply runs everything."""
    assert len(read_done_keys(tmp_path / "none.jsonl")) == 0


def test_an_unreadable_results_path_is_one_clear_error(tmp_path: Path) -> None:
    """A directory as --results is a JobFileError naming it (exit 2), not a traceback."""
    with pytest.raises(JobFileError, match="is a directory, not a result log") as caught:
        read_done_keys(tmp_path)
    assert caught.value.path == str(tmp_path)


@pytest.mark.parametrize(
    ("results", "resume", "error", "message"),
    [
        (None, True, UsageError, "^--resume needs --results PATH"),
        (".", False, JobFileError, "^.: is a directory, not a result log$"),
        (".", True, JobFileError, "^.: is a directory, not a result log$"),
    ],
    ids=["resume-without-results", "directory", "directory-resumed"],
)
def test_a_results_path_no_run_can_use_is_refused(
    results: str | None, resume: bool, error: type[Exception], message: str
) -> None:
    """check_results_path says what is wrong with --results before a run starts anything."""
    with pytest.raises(error, match=message):
        check_results_path(results, resume=resume)


def test_a_results_log_not_there_yet_passes_the_check(tmp_path: Path) -> None:
    """A log the run will start passes, resumed or not; so does no --results without --resume."""
    check_results_path(tmp_path / "new.jsonl", resume=True)
    check_results_path(tmp_path / "new.jsonl", resume=False)
    check_results_path(None, resume=False)


def test_failed_rows_become_a_runnable_job(tmp_path: Path) -> None:
    """<results>.failed.csv holds just the failed rows and reads back as a job."""
    path = tmp_path / "r.jsonl"
    with ResultJournal(path) as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        journal.record(result(3, Outcome.FAILED, Detail.RETRIES_EXHAUSTED))
        journal.record(result(4, Outcome.INVALID, Detail.INVALID_ROW))
    failed = failed_path(path)
    assert failed.name == "r.failed.csv"
    assert [(r.op, r.service_sid, r.sender_sid) for r in jobs.open_job(failed).rows()] == [
        (Op.ATTACH, mg(1), sc(3))
    ]


def test_a_run_without_failures_leaves_no_stale_failed_file(tmp_path: Path) -> None:
    """A failed-rows file from an earlier run is removed when this run has none."""
    path = tmp_path / "r.jsonl"
    failed_path(path).write_text("stale\n", encoding="utf-8")
    with ResultJournal(path) as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
    assert not failed_path(path).exists()


def test_a_last_line_without_newline_is_torn_even_if_it_parses(tmp_path: Path) -> None:
    """The resume and the repair agree: an unterminated last record is not done."""
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(result(2, Outcome.SUCCEEDED, Detail.ATTACHED).to_record()), "utf-8")
    assert len(read_done_keys(path)) == 0


def test_a_line_that_is_json_but_not_a_record_is_an_error(tmp_path: Path) -> None:
    """A list or a number where a record should be names its line."""
    path = tmp_path / "r.jsonl"
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(JobFileError, match=":1: not a result record"):
        read_done_keys(path)


def good(line: int) -> str:
    """The line the journal writes for a succeeded row ``line``, newline included."""
    record = result(line, Outcome.SUCCEEDED, Detail.ATTACHED).to_record()
    return json.dumps(record, separators=(",", ":")) + "\n"


TORN_TAILS = [
    pytest.param(good(3).rstrip("\n").encode(), id="whole-record-without-newline"),
    pytest.param(b'{"line":3,"op":"attach","outc', id="half-a-record"),
    pytest.param(b'{"line":3,"outc\n', id="not-json-with-newline"),
    pytest.param(b'{"line":3,"outc\n\n  \n', id="not-json-then-blank-lines"),
    pytest.param(b'{"line":3,"message":"\xff\xfe"}\n', id="not-utf8"),
]


@pytest.mark.parametrize("tail", TORN_TAILS)
def test_resume_report_and_repair_agree_on_a_torn_last_line(tmp_path: Path, tail: bytes) -> None:
    """A torn last line is never done, is reported by its number, and is what the journal cuts."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(good(2).encode() + tail)

    assert set(read_done_keys(path)) == {key_digest(("attach", mg(1), "short_code", sc(2), ""))}
    reader = read_results(path)
    report = summarize(reader)
    assert (report.records, report.rows, report.torn_lines) == (1, 1, 1)
    assert reader.torn_line == 2

    with ResultJournal(path) as journal:
        journal.record(result(4, Outcome.SUCCEEDED, Detail.ATTACHED))
    assert journal.repaired_bytes == len(tail)
    assert path.read_text(encoding="utf-8") == good(2) + good(4)
    reader = read_results(path)
    assert [r["line"] for r in reader] == [2, 4]
    assert reader.torn_line is None


@pytest.mark.parametrize("tail", ["", "\n", "\n  \n"], ids=["plain", "blank", "blanks"])
def test_a_log_that_ends_cleanly_has_no_torn_line(tmp_path: Path, tail: str) -> None:
    """Whole records, then only blank lines: nothing is torn, cut or skipped."""
    path = tmp_path / "r.jsonl"
    path.write_text(good(2) + good(3) + tail, encoding="utf-8")
    reader = read_results(path)
    assert [r["line"] for r in reader] == [2, 3]
    assert reader.torn_line is None
    assert len(read_done_keys(path)) == 2
    assert repair_torn_tail(path) == 0


def test_blanks_without_a_newline_after_a_whole_record_are_cut_alone(tmp_path: Path) -> None:
    """Only the unterminated blanks go: the record before them stays and stays done."""
    path = tmp_path / "r.jsonl"
    path.write_text(good(2) + "  ", encoding="utf-8")
    assert read_results(path).torn_line is None
    assert repair_torn_tail(path) == 2
    assert path.read_text(encoding="utf-8") == good(2)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (good(2) + '{"torn\n' + good(3), 2, "invalid JSON"),
        (good(2) + "[1, 2]", 2, "not a result record"),
        ('{"service_sid": "MG1", "op": "attach"}\n', 1, "with an 'outcome'"),
    ],
    ids=["broken-middle", "json-not-a-record-last", "a-json-job-file"],
)
def test_resume_and_report_refuse_the_same_damage(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    """A bad line with more after it, or JSON that is no record, is FILE:LINE for both."""
    path = tmp_path / "r.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JobFileError, match=problem) as by_resume:
        read_done_keys(path)
    with pytest.raises(JobFileError) as by_report:
        summarize(read_results(path))
    assert str(by_resume.value) == str(by_report.value)
    assert str(by_resume.value).startswith(f"{path}:{line}: ")


def test_done_keys_of_every_kind_match_the_rows_they_came_from(tmp_path: Path) -> None:
    """Phone-number and alpha records key on kind and sender, so a resume skips exactly them."""
    phone = Row(2, Op.ATTACH, mg(1), "+14155550100", SenderKind.PHONE_NUMBER, sender_sid=pn(1))
    alpha = Row(3, Op.ATTACH, mg(1), "Acme", SenderKind.ALPHA_SENDER)
    other = Row(4, Op.ATTACH, mg(1), pn(2), SenderKind.PHONE_NUMBER)
    path = tmp_path / "r.jsonl"
    with ResultJournal(path) as journal:
        journal.record(
            ItemResult(
                2,
                "attach",
                mg(1),
                pn(1),
                Outcome.SUCCEEDED,
                Detail.ATTACHED,
                SenderKind.PHONE_NUMBER,
                sender="+14155550100",
            )
        )
        # The alpha record carries the AI SID Twilio created; its key is the text.
        journal.record(ItemResult(3, "attach", mg(1), ai(9), Outcome.SUCCEEDED, Detail.ATTACHED,
                                  SenderKind.ALPHA_SENDER, sender="Acme"))  # fmt: skip
    done = read_done_keys(path)
    assert set(done) == {key_digest(phone.key), key_digest(alpha.key)}
    assert key_digest(other.key) not in done
    same_sid_by_sid = Row(9, Op.ATTACH, mg(1), pn(1), SenderKind.PHONE_NUMBER)
    assert key_digest(same_sid_by_sid.key) in done  # named by SID now: still done


def test_a_record_written_before_kinds_is_a_short_code(tmp_path: Path) -> None:
    """Old logs have short_code_sid and no kind: their rows stay done on resume."""
    path = tmp_path / "r.jsonl"
    old = {"line": 2, "op": "attach", "service_sid": mg(1), "short_code_sid": sc(1),
           "outcome": "succeeded", "detail": "attached"}  # fmt: skip
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    assert set(read_done_keys(path)) == {key_digest(Row(2, Op.ATTACH, mg(1), sc(1)).key)}


def test_failed_rows_of_every_kind_are_written_as_one_runnable_job(tmp_path: Path) -> None:
    """The failed-rows file names each sender as its row did, with its kind."""
    path = tmp_path / "r.jsonl"
    with ResultJournal(path) as journal:
        journal.record(
            ItemResult(
                2,
                "attach",
                mg(1),
                "",
                Outcome.FAILED,
                Detail.SENDER_NOT_FOUND,
                SenderKind.PHONE_NUMBER,
                sender="+14155550100",
            )
        )
        journal.record(ItemResult(3, "detach", mg(1), ai(1), Outcome.FAILED,
                                  Detail.RETRIES_EXHAUSTED, SenderKind.ALPHA_SENDER,
                                  sender="Acme"))  # fmt: skip
    rows = list(jobs.open_job(failed_path(path)).rows())
    assert rows == [
        Row(2, Op.ATTACH, mg(1), "+14155550100", SenderKind.PHONE_NUMBER),
        Row(3, Op.DETACH, mg(1), "Acme", SenderKind.ALPHA_SENDER),
    ]


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


def varied_results(seed: int, count: int) -> list[ItemResult]:
    """Results of every shape the engine writes, with awkward text where text is free."""
    rng = random.Random(seed)
    texts = [
        None,
        "",
        "plain",
        'quote " and \\ backslash',
        "tab\tnewline\n",
        "ünïcødé ✓",
        "\x00\x1f",
    ]
    extras: list[dict[str, Any]] = [
        {},
        {"short_code": "12345", "country_code": "US", "capabilities": ["SMS", "MMS"]},
        {"steps": ["detach:204", "attach:201"]},
        {"short_code": None, "nested": {"a": [1, 2.5, None, True]}},
    ]
    results = []
    for n in range(count):
        results.append(
            ItemResult(
                line=rng.randint(2, 10**6),
                op=rng.choice(["attach", "detach", "fetch", "migrate", "", 'bogus "op"']),
                service_sid=mg(n),
                sender_sid=sc(n) if n % 7 else "not a sid ✗",
                outcome=rng.choice(list(Outcome)),
                detail=rng.choice(list(Detail)),
                http_status=rng.choice([None, 200, 201, 204, 404, 429, 503]),
                twilio_code=rng.choice([None, 20429, 21710, TwilioCode.IN_ANOTHER_SERVICE]),
                message=rng.choice(texts),
                attempts=rng.randint(0, 100),
                elapsed_ms=rng.choice([0.0, 43.2, round(rng.uniform(0, 1e6), 1), 1e-05, 1e21]),
                finished_at=rng.choice(["", "2026-11-23T12:49:17.735Z"]),
                throttled=rng.randint(0, 5),
                from_service_sid=rng.choice([None, "", mg(n + 1)]),
                resource=rng.choice(extras),
                kind=rng.choice([*SenderKind, None]),
                sender=rng.choice(["", "+14155550100", "Acme ✓", 'a "quoted" brand']),
                settled=rng.random() < 0.2,
            )
        )
    return results


@pytest.mark.parametrize("seed", range(5))
def test_a_record_line_is_what_json_makes_of_the_record(seed: int) -> None:
    """The journal's hand-spelled line is character for character json's, for every shape."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    for result in varied_results(seed, 400):
        assert record_line(result) == encoder.encode(result.to_record())


def test_a_record_line_falls_back_to_json_when_it_must() -> None:
    """A non-finite float or an extra field named like a base field: json writes the line."""
    base = ItemResult(2, "attach", mg(1), sc(1), Outcome.SUCCEEDED, Detail.ATTACHED)
    odd_ones = (
        replace(base, elapsed_ms=math.nan),
        replace(base, resource={"line": 9}),
        replace(base, resource={"short_code_sid": "other"}),
        replace(base, resource={"settled": False}, settled=True),
    )
    for odd in odd_ones:
        assert record_line(odd) == json.dumps(
            odd.to_record(), ensure_ascii=False, separators=(",", ":")
        )


@pytest.mark.parametrize("seed", range(3))
def test_a_fresh_journals_tally_is_the_report_of_its_log_read_back(
    tmp_path: Path, seed: int
) -> None:
    """What a run counts as it writes is what summarize finds reading the log back."""
    results = varied_results(seed, 300)
    results += [replace(r, line=r.line + 1) for r in results[:40]]  # rows seen twice
    tally = Tally()
    path = tmp_path / "r.jsonl"
    with ResultJournal(path, tally=tally) as journal:
        for item in results:
            journal.record(item)
    assert report_of(tally) == summarize(read_results(path))
    assert report_of(tally).records == len(results)


@pytest.mark.asyncio
async def test_a_batched_journal_flushes_a_turns_records_together_when_the_turn_ends(
    tmp_path: Path,
) -> None:
    """Three rows finished in one turn of the loop: none on disk during it, all three after.

    Unbatched, each is on disk the moment it is written; fsync and close flush
    whatever is pending, so nothing waits for a turn that may not come.
    """
    path = tmp_path / "results.jsonl"

    def on_disk() -> int:
        return len(path.read_text(encoding="utf-8").splitlines())

    clock = FakeClock()
    with ResultJournal(path, batched=True, monotonic=clock) as journal:
        for line in (2, 3, 4):
            journal.record(result(line, Outcome.SUCCEEDED, Detail.ATTACHED))
        assert on_disk() == 0
        await asyncio.sleep(0)  # the turn is over
        assert on_disk() == 3
        journal.record(result(5, Outcome.SUCCEEDED, Detail.ATTACHED))
        clock.advance(1.0)  # an fsync is due: it writes what is pending first
        journal.sync_if_due()
        assert on_disk() == 4
        journal.record(result(6, Outcome.SUCCEEDED, Detail.ATTACHED))
    assert on_disk() == 5  # closed before the turn ended
    await asyncio.sleep(0)  # the flush scheduled for that turn finds the journal closed

    with ResultJournal(tmp_path / "each.jsonl") as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        assert len((tmp_path / "each.jsonl").read_text(encoding="utf-8").splitlines()) == 1


@pytest.mark.asyncio
async def test_a_long_turn_is_written_whole_and_in_order(tmp_path: Path) -> None:
    """600 records in one turn (a run of invalid rows): handed to the file in parts, in order."""
    path = tmp_path / "results.jsonl"
    with ResultJournal(path, batched=True) as journal:
        for line in range(2, 602):
            journal.record(result(line, Outcome.INVALID, Detail.INVALID_ROW))
        await asyncio.sleep(0)
        lines = path.read_text(encoding="utf-8").splitlines()
        assert [json.loads(text)["line"] for text in lines] == list(range(2, 602))
        assert journal.counts == {(Outcome.INVALID, Detail.INVALID_ROW): 600}


@pytest.mark.asyncio
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "each"])
async def test_a_lone_surrogate_is_written_as_its_json_escape(
    tmp_path: Path, *, batched: bool
) -> None:
    """A JSON job's "\\ud800" cannot be UTF-8: the line holds the escape, which reads back.

    Nothing of the turn is lost with it, and the counts match the lines.
    """
    path = tmp_path / "results.jsonl"
    odd = replace(result(3, Outcome.INVALID, Detail.INVALID_ROW), sender="\ud800x")
    with ResultJournal(path, batched=batched) as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        journal.record(odd)
        journal.record(result(4, Outcome.SUCCEEDED, Detail.ATTACHED))
        await asyncio.sleep(0)
    text = path.read_text(encoding="utf-8")
    assert '"sender":"\\ud800x"' in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["line"] for r in records] == [2, 3, 4]
    assert records[1]["sender"] == "\ud800x"
    assert sum(journal.counts.values()) == 3


_DEV_FULL = Path("/dev/full")  # every write to it fails with ENOSPC, as a full disk's does


@pytest.fixture
def full_disk(tmp_path: Path) -> Path:
    """A results path in ``tmp_path`` that is /dev/full: files beside it land in tmp_path."""
    if not _DEV_FULL.exists():
        pytest.skip("needs Linux's /dev/full")
    link = tmp_path / "results.jsonl"
    link.symlink_to(_DEV_FULL)
    return link


@pytest.mark.asyncio
async def test_a_full_disk_under_a_batched_journal_stops_the_next_record(full_disk: Path) -> None:
    """The turn's flush fails in a loop callback: kept, then raised by the next record.

    The records it could not write are not counted, so the run's summary claims
    none of them; close does not raise the same failure a second time.
    """
    with ResultJournal(full_disk, batched=True) as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        await asyncio.sleep(0)  # the turn ends: its flush fails
        with pytest.raises(OSError, match="No space left") as caught:
            journal.record(result(3, Outcome.SUCCEEDED, Detail.ATTACHED))
        assert caught.value.errno == errno.ENOSPC
        assert not journal.counts


@pytest.mark.asyncio
async def test_a_full_disk_found_only_at_close_is_raised_by_close_once(full_disk: Path) -> None:
    journal = ResultJournal(full_disk, batched=True)
    with pytest.raises(OSError, match="No space left") as caught, journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
    assert caught.value.errno == errno.ENOSPC
    assert not journal.counts
    journal.close()  # closed already: nothing more to say


def test_a_full_disk_under_an_unbatched_journal_fails_the_record_itself(full_disk: Path) -> None:
    with ResultJournal(full_disk) as journal:
        with pytest.raises(OSError, match="No space left"):
            journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        assert not journal.counts


@pytest.mark.asyncio
async def test_a_turn_too_big_for_the_buffer_fails_in_the_write_and_is_not_counted(
    full_disk: Path,
) -> None:
    """More than a buffer's worth of records in one turn: the write itself fails.

    Raised there and then; none of the turn's records is counted, and close does
    not raise the same failure again.
    """
    with ResultJournal(full_disk, batched=True) as journal:

        def fill() -> None:
            for line in range(2, 1000):  # a record is about 300 bytes: the buffer fills
                journal.record(result(line, Outcome.SUCCEEDED, Detail.ATTACHED))

        with pytest.raises(OSError, match="No space left"):
            fill()
        assert not journal.counts


def test_an_fsync_that_fails_is_raised_once_and_close_does_not_try_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk refuses the fsync (EIO): the record that was due raises it; close is quiet.

    The records were written (the file holds them) so they stay counted.
    """
    syncs: list[int] = []

    def failing_fsync(fd: int) -> None:
        syncs.append(fd)
        raise OSError(errno.EIO, "Input/output error")

    clock = FakeClock()
    path = tmp_path / "results.jsonl"
    with ResultJournal(path, monotonic=clock) as journal:
        journal.record(result(2, Outcome.SUCCEEDED, Detail.ATTACHED))
        monkeypatch.setattr("bulkops.journal.writer.os.fsync", failing_fsync)
        clock.advance(1.0)
        with pytest.raises(OSError, match="Input/output error"):
            journal.record(result(3, Outcome.SUCCEEDED, Detail.ATTACHED))
    assert len(syncs) == 1  # close did not fsync (nor raise) a second time
    assert sum(journal.counts.values()) == 2
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
