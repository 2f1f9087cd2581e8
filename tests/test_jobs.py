"""The job reader: CSV and JSON Lines rows, validation, line numbers, file errors, streaming."""

from __future__ import annotations

import builtins
import inspect
import tracemalloc
from contextlib import closing
from pathlib import Path
from typing import IO, Any

import pytest
from support import mg, sc

from bulkops import encoding, jobs
from bulkops.errors import JobFileError
from bulkops.jobs import open_job
from bulkops.model import InvalidRow, Op, Row

HEADER = "service_sid,short_code_sid,op"


def write(tmp_path: Path, content: str | bytes, name: str = "job.csv") -> Path:
    """Write ``content`` byte-exact (no newline translation) and return the path."""
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def read_all(path: Path, default_op: Op | None = None) -> list[Row | InvalidRow]:
    return list(open_job(path, default_op=default_op).rows())


def only_invalid(path: Path, default_op: Op | None = None) -> InvalidRow:
    (row,) = read_all(path, default_op)
    assert isinstance(row, InvalidRow), row
    return row


# --- CSV: header, encodings, line endings, line numbers --------------------------------------


def test_csv_reads_rows(tmp_path: Path) -> None:
    """A plain CSV job yields one Row per data line, header being line 1."""
    path = write(tmp_path, f"{HEADER}\n{mg(1)},{sc(1)},attach\n{mg(2)},{sc(2)},detach\n")
    assert read_all(path) == [
        Row(2, Op.ATTACH, mg(1), sc(1)),
        Row(3, Op.DETACH, mg(2), sc(2)),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "service_sid,short_code_sid,op",
        "SERVICE_SID,Short_Code_Sid,OP",
        "ServiceSid,ShortCodeSid,Op",
        "servicesid,SHORTCODESID,op",
        " service_sid , short_code_sid , op ",
    ],
)
def test_csv_header_names_are_case_insensitive_and_accept_twilio_spelling(
    tmp_path: Path, header: str
) -> None:
    """Header names match case-insensitively, and ServiceSid/ShortCodeSid are accepted."""
    path = write(tmp_path, f"{header}\n{mg(1)},{sc(1)},fetch\n")
    assert read_all(path) == [Row(2, Op.FETCH, mg(1), sc(1))]


def test_csv_extra_columns_are_ignored_in_any_order(tmp_path: Path) -> None:
    """Columns bulkops does not know are ignored, wherever the known ones sit."""
    path = write(
        tmp_path,
        f"note,ShortCodeSid,country,op,ServiceSid\nhello,{sc(1)},US,detach,{mg(1)}\n",
    )
    assert read_all(path) == [Row(2, Op.DETACH, mg(1), sc(1))]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_csv_utf8_with_or_without_bom_and_any_line_ending(
    tmp_path: Path, bom: bytes, eol: bytes
) -> None:
    """A BOM is dropped (the first header cell still matches) and CRLF reads like LF."""
    lines = [HEADER, f"{mg(1)},{sc(1)},attach", "", f"{mg(2)},{sc(2)},detach"]
    path = write(tmp_path, bom + eol.join(s.encode() for s in lines) + eol)
    assert read_all(path) == [
        Row(2, Op.ATTACH, mg(1), sc(1)),
        Row(4, Op.DETACH, mg(2), sc(2)),
    ]


def test_csv_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    """Blank and whitespace-only lines yield nothing but still count as lines."""
    text = f"\n{HEADER}\n\n{mg(1)},{sc(1)},attach\n   \n,,\n\n{mg(2)},{sc(2)},attach\n\n"
    path = write(tmp_path, text)
    assert [r.line for r in read_all(path)] == [4, 8]


def test_csv_a_row_with_only_another_column_filled_is_not_blank(tmp_path: Path) -> None:
    """Empty job fields but a note: a row (invalid, it has no service), not a blank line."""
    path = write(tmp_path, f"note,{HEADER}\n  ,,,\nhello, , ,\n")
    assert [(r.line, type(r).__name__) for r in read_all(path)] == [(3, "InvalidRow")]


def test_csv_last_row_without_trailing_newline_is_read(tmp_path: Path) -> None:
    """The final row is yielded even when the file does not end with a newline."""
    path = write(tmp_path, f"{HEADER}\n{mg(1)},{sc(1)},attach")
    assert read_all(path) == [Row(2, Op.ATTACH, mg(1), sc(1))]


def test_csv_quoted_fields_follow_rfc4180(tmp_path: Path) -> None:
    """Quoted fields, doubled quotes and an embedded newline parse; later lines stay right."""
    text = (
        "note,service_sid,short_code_sid,op\r\n"
        f'"a, ""quoted"" note","{mg(1)}","{sc(1)}","attach"\r\n'
        f'"two\r\nlines",{mg(2)},{sc(2)},detach\r\n'
        f"plain,{mg(3)},{sc(3)},fetch\r\n"
    )
    path = write(tmp_path, text)
    assert read_all(path) == [
        Row(2, Op.ATTACH, mg(1), sc(1)),
        Row(3, Op.DETACH, mg(2), sc(2)),
        Row(5, Op.FETCH, mg(3), sc(3)),
    ]


# --- op column and default_op ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "default_op", "expected"),
    [
        ("detach", Op.ATTACH, Op.DETACH),
        ("FETCH", None, Op.FETCH),
        ("", Op.ATTACH, Op.ATTACH),
        ("  ", Op.DETACH, Op.DETACH),
    ],
)
def test_csv_row_op_overrides_default_and_empty_op_uses_it(
    tmp_path: Path, cell: str, default_op: Op | None, expected: Op
) -> None:
    """A row's op wins over default_op; an empty op falls back to default_op."""
    path = write(tmp_path, f"{HEADER}\n{mg(1)},{sc(1)},{cell}\n")
    assert read_all(path, default_op) == [Row(2, expected, mg(1), sc(1))]


def test_csv_without_op_column_uses_default_op(tmp_path: Path) -> None:
    """With no op column at all, every row takes default_op."""
    path = write(tmp_path, f"service_sid,short_code_sid\n{mg(1)},{sc(1)}\n")
    assert read_all(path, Op.DETACH) == [Row(2, Op.DETACH, mg(1), sc(1))]


# --- invalid rows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "sender", "op", "problem"),
    [
        ("MX" + "0" * 32, sc(1), "attach", "service_sid"),
        ("MG" + "0" * 31, sc(1), "attach", "service_sid"),
        ("MG" + "0" * 33, sc(1), "attach", "service_sid"),
        ("MG" + "g" * 32, sc(1), "attach", "service_sid"),
        (mg(1), "PN" + "0" * 32, "attach", "short_code_sid"),
        (mg(1), "sc" + "0" * 32, "attach", "short_code_sid"),
        (mg(1), "SC" + "0" * 31, "attach", "short_code_sid"),
        (mg(1), "SC" + "0" * 33, "attach", "short_code_sid"),
        (mg(1), "SC" + "z" * 32, "attach", "short_code_sid"),
        (mg(1), sc(1) + "x", "attach", "short_code_sid"),
        (mg(1), sc(1) + " junk", "attach", "short_code_sid"),
        (mg(1), sc(1), "attatch", "unknown op 'attatch'"),
        ("", sc(1), "attach", "missing service_sid"),
        (mg(1), "", "attach", "missing short_code_sid"),
        (mg(1), sc(1), "", "missing op"),
    ],
    ids=[
        "mg-prefix",
        "mg-short",
        "mg-long",
        "mg-non-hex",
        "sc-prefix",
        "sc-lowercase-prefix",
        "sc-short",
        "sc-long",
        "sc-non-hex",
        "sc-trailing-junk",
        "sc-trailing-word",
        "unknown-op",
        "missing-service",
        "missing-sender",
        "missing-op",
    ],
)
def test_csv_bad_row_becomes_invalid_row_naming_the_problem(
    tmp_path: Path, service: str, sender: str, op: str, problem: str
) -> None:
    """A malformed row is yielded as InvalidRow, kept as read, with a message naming the fault."""
    path = write(tmp_path, f"{HEADER}\n{service},{sender},{op}\n")
    row = only_invalid(path)
    assert row.line == 2
    assert (row.service_sid, row.sender_sid, row.op) == (service, sender, op)
    assert problem in row.problem


@pytest.mark.parametrize(
    ("header", "data_line", "problem"),
    [
        (HEADER, mg(1), "missing short_code_sid"),
        (HEADER, f"{mg(1)},", "missing short_code_sid"),
        ("op,service_sid,short_code_sid", "attach", "missing service_sid"),
    ],
)
def test_csv_short_row_is_invalid(
    tmp_path: Path, header: str, data_line: str, problem: str
) -> None:
    """A row with fewer cells than the header is invalid, naming the value it lacks."""
    path = write(tmp_path, f"{header}\n{data_line}\n")
    row = only_invalid(path, Op.ATTACH)
    assert row.line == 2
    assert problem in row.problem


def test_invalid_rows_do_not_stop_the_valid_ones(tmp_path: Path) -> None:
    """Rows after a bad one are still read, with their own line numbers."""
    path = write(tmp_path, f"{HEADER}\n{mg(1)},nope,attach\n{mg(2)},{sc(2)},attach\n")
    rows = read_all(path)
    assert [type(r) for r in rows] == [InvalidRow, Row]
    assert rows[1] == Row(3, Op.ATTACH, mg(2), sc(2))


# --- JSON Lines ------------------------------------------------------------------------------


def test_jsonl_reads_rows_with_the_same_keys(tmp_path: Path) -> None:
    """JSON Lines accept the CSV keys and Twilio's spelling; blank lines count but yield nothing."""
    text = (
        f'{{"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}", "op": "attach"}}\n'
        "\n"
        f'{{"ServiceSid": "{mg(2)}", "ShortCodeSid": "{sc(2)}", "OP": "Detach", "x": 1}}\n'
    )
    path = write(tmp_path, text, "job.jsonl")
    assert read_all(path) == [
        Row(1, Op.ATTACH, mg(1), sc(1)),
        Row(3, Op.DETACH, mg(2), sc(2)),
    ]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_jsonl_utf8_with_or_without_bom_and_any_line_ending(
    tmp_path: Path, bom: bytes, eol: bytes
) -> None:
    """A BOM and CRLF line endings do not disturb JSON Lines."""
    lines = [
        f'{{"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}"}}',
        f'{{"service_sid": "{mg(2)}", "short_code_sid": "{sc(2)}"}}',
    ]
    path = write(tmp_path, bom + eol.join(s.encode() for s in lines) + eol, "job.jsonl")
    assert read_all(path, Op.FETCH) == [
        Row(1, Op.FETCH, mg(1), sc(1)),
        Row(2, Op.FETCH, mg(2), sc(2)),
    ]


@pytest.mark.parametrize(
    ("op_part", "default_op", "expected"),
    [
        (', "op": "detach"', Op.ATTACH, Op.DETACH),
        (', "op": ""', Op.ATTACH, Op.ATTACH),
        (', "op": null', Op.FETCH, Op.FETCH),
        ("", Op.DETACH, Op.DETACH),
    ],
)
def test_jsonl_row_op_overrides_default_and_empty_op_uses_it(
    tmp_path: Path, op_part: str, default_op: Op, expected: Op
) -> None:
    """In JSON Lines too, a row's op wins and an empty or absent op takes default_op."""
    text = f'{{"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}"{op_part}}}\n'
    path = write(tmp_path, text, "job.jsonl")
    assert read_all(path, default_op) == [Row(1, expected, mg(1), sc(1))]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        (f'{{"service_sid": "{mg(1)}", ', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"a string"', "not a JSON object"),
        ("42", "not a JSON object"),
        (f'{{"service_sid": "{mg(1)}", "op": "attach"}}', "missing sender: no key"),
        (f'{{"service_sid": "{mg(1)}", "short_code_sid": "SC1", "op": "attach"}}', "SC1"),
        (f'{{"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}", "op": "zap"}}', "zap"),
        (f'{{"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}"}}', "missing op"),
    ],
)
def test_jsonl_bad_line_becomes_invalid_row(tmp_path: Path, line: str, problem: str) -> None:
    """A JSONL line that is not a JSON object, or holds bad values, is an InvalidRow."""
    good = f'{{"service_sid": "{mg(2)}", "short_code_sid": "{sc(2)}", "op": "attach"}}'
    path = write(tmp_path, f"{line}\n{good}\n", "job.jsonl")
    bad, ok = read_all(path)
    assert isinstance(bad, InvalidRow)
    assert bad.line == 1
    assert problem in bad.problem
    assert ok == Row(2, Op.ATTACH, mg(2), sc(2))


# --- files that cannot be used ---------------------------------------------------------------


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nope.csv"


def _directory(tmp_path: Path) -> Path:
    (tmp_path / "dir.csv").mkdir()
    return tmp_path / "dir.csv"


@pytest.mark.parametrize(
    ("make", "line", "problem"),
    [
        (_missing, None, "no such file"),
        (_directory, None, "directory"),
        (lambda p: write(p, ""), 1, "empty file"),
        (lambda p: write(p, "\n \n\r\n"), 1, "empty file"),
        (lambda p: write(p, f"service_sid,op\n{mg(1)},attach\n"), 1, "'short_code_sid'"),
        (lambda p: write(p, f"short_code_sid,op\n{sc(1)},attach\n"), 1, "'service_sid'"),
        (lambda p: write(p, f"\n\nsid,op\n{mg(1)},attach\n"), 3, "missing required column"),
        (lambda p: write(p, f"service_sid,short_code_sid\n{mg(1)},{sc(1)}\n"), 1, "'op'"),
        (lambda p: write(p, b"service_sid,short_code_sid,op\n\xff\xfe\n"), 2, "not UTF-8"),
        (lambda p: write(p, b"\x89PNG\r\n\x1a\n\x00\x00"), 1, "not UTF-8"),
        (lambda p: write(p, f'service_sid,"short_code_sid"x,op\n{mg(1)},{sc(1)},a\n'), 1, "CSV"),
        (lambda p: write(p, f'{HEADER}\n{mg(1)},"{sc(1)}"x,attach\n'), 2, "malformed CSV"),
    ],
    ids=[
        "missing",
        "directory",
        "empty",
        "only-blank-lines",
        "no-sender-column",
        "no-service-column",
        "bad-header-after-blank-lines",
        "no-op-column-no-default",
        "not-utf8",
        "binary",
        "bad-quote-in-header",
        "bad-quote-in-first-row",
    ],
)
def test_bad_file_raises_job_file_error_before_any_row(
    tmp_path: Path, make: Any, line: int | None, problem: str
) -> None:
    """A job file that cannot be used raises JobFileError (path, line) when it is opened."""
    path = make(tmp_path)
    with pytest.raises(JobFileError) as caught:
        open_job(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(path) in str(caught.value)


def test_unterminated_quote_raises_job_file_error(tmp_path: Path) -> None:
    """A quote that never closes is a malformed file, not a silently swallowed tail."""
    path = write(tmp_path, f'{HEADER}\n{mg(1)},"{sc(1)},attach\n{mg(2)},{sc(2)},attach\n')
    with pytest.raises(JobFileError, match="malformed CSV") as caught:
        read_all(path)
    assert caught.value.path == str(path)


def test_unterminated_quote_is_reported_at_the_line_where_it_opens(tmp_path: Path) -> None:
    """The JobFileError for an unterminated quote names the line of the row that opened it."""
    rows = "".join(f"{mg(i)},{sc(i)},attach\n" for i in range(3, 10))
    path = write(tmp_path, f'{HEADER}\n{mg(1)},"{sc(1)},attach\n{rows}')
    with pytest.raises(JobFileError) as caught:
        read_all(path)
    assert caught.value.line == 2


def test_malformed_quoting_further_down_is_reported_before_any_row(tmp_path: Path) -> None:
    """Malformed quoting anywhere in the file stops the job before any row is yielded."""
    path = write(
        tmp_path,
        f'{HEADER}\n{mg(1)},{sc(1)},attach\n{mg(2)},{sc(2)},attach\n{mg(3)},"{sc(3)}"x,attach\n',
    )
    with pytest.raises(JobFileError) as caught:
        open_job(path)
    assert caught.value.line == 4


# --- the check when opening ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        ("", 0),
        (f"{mg(1)},{sc(1)},attach\n", 1),
        (f"{mg(1)},{sc(1)},attach", 1),
        (f"\n{mg(1)},{sc(1)},attach\r\n\r\n{mg(2)},{sc(2)},attach\n", 2),
        (f'{mg(1)},"{sc(1)}\n",attach\n{mg(2)},x,attach\n', 2),
    ],
    ids=["header-only", "one", "no-final-newline", "blank-lines", "quoted-newline"],
)
def test_open_job_counts_the_rows_it_will_yield(tmp_path: Path, body: str, rows: int) -> None:
    """rows_total counts non-blank records after the header, invalid ones too."""
    job = open_job(write(tmp_path, f"{HEADER}\n{body}"))
    assert job.rows_total == rows == len(list(job.rows()))


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"\xff" + HEADER.encode() + b"\n", 1),
        (f"{HEADER}\n{mg(1)},{sc(1)},attach\n".encode() + b"\xc3\x28,x,attach\n", 3),
        (f"{HEADER}\n€\nb\n".encode() + b"ok\xe9\n", 4),
        (HEADER.encode() + b"\nb\nc\xe2\x82", 3),
    ],
    ids=["first-byte", "third-line", "after-multibyte", "truncated-at-eof"],
)
def test_open_job_names_the_line_of_the_first_bad_byte(
    tmp_path: Path, content: bytes, line: int
) -> None:
    """open_job() rejects non-UTF-8 content with the 1-based line holding the bad byte."""
    path = write(tmp_path, content)
    with pytest.raises(JobFileError, match="not UTF-8") as caught:
        open_job(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)


def test_open_job_line_is_right_when_a_character_straddles_the_chunk_boundary(
    tmp_path: Path,
) -> None:
    """A bad byte just after a multibyte character split across read chunks gets its own line."""
    chunk = encoding._CHUNK
    head = f"{HEADER}\n".encode()
    while len(head) + 100 <= chunk - 2:
        head += b"x" * 99 + b"\n"
    head += b"y" * (chunk - 3 - len(head)) + b"\n"  # the split '€' starts the next line
    content = head + b"\xe2\x82" + b"\xac\n" + b"\xff\n"  # the bad byte's line follows it
    assert content[chunk - 2 : chunk] == b"\xe2\x82"
    with pytest.raises(JobFileError) as caught:
        open_job(write(tmp_path, content))
    assert caught.value.line == head.count(b"\n") + 2


@pytest.mark.parametrize(
    ("make", "problem"), [(_missing, "no such file"), (_directory, "directory")]
)
def test_open_job_rejects_missing_file_and_directory(
    tmp_path: Path, make: Any, problem: str
) -> None:
    """open_job() turns a missing path or a directory into JobFileError without a line."""
    path = make(tmp_path)
    with pytest.raises(JobFileError, match=problem) as caught:
        open_job(path)
    assert (caught.value.path, caught.value.line) == (str(path), None)


# --- streaming -------------------------------------------------------------------------------

BIG_ROWS = 200_000


@pytest.fixture(scope="module")
def big_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    body = "\n".join(f"{mg(i)},{sc(i)},attach" for i in range(BIG_ROWS))
    path.write_text(f"{HEADER}\n{body}\n", encoding="utf-8")
    return path


def test_rows_yields_the_first_row_without_reading_the_file(
    big_job: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rows() is a generator: the first row arrives after reading a sliver, in little memory."""
    handles: list[IO[str]] = []

    def spying_open(*args: Any, **kwargs: Any) -> IO[str]:
        handle = builtins.open(*args, **kwargs)  # noqa: SIM115 - rows() closes it
        handles.append(handle)
        return handle

    job = open_job(big_job)  # the whole-file check, before the spy
    monkeypatch.setattr(jobs, "open", spying_open, raising=False)
    size = big_job.stat().st_size
    tracemalloc.start()
    try:
        with closing(job.rows()) as rows:
            assert inspect.isgenerator(rows)
            first = next(rows)
            _, peak = tracemalloc.get_traced_memory()
            position = handles[0].buffer.tell()
    finally:
        tracemalloc.stop()
    assert first == Row(2, Op.ATTACH, mg(0), sc(0))
    assert size > 10_000_000
    assert position < size // 100
    assert peak < 2_000_000
    assert handles[0].closed


def test_rows_streams_every_row_of_a_large_file(big_job: Path) -> None:
    """All 200k rows come out, the last one with the right line number."""
    count, last = 0, None
    job = open_job(big_job)
    for row in job.rows():
        count += 1
        last = row
    assert count == BIG_ROWS
    assert last == Row(BIG_ROWS + 1, Op.ATTACH, mg(BIG_ROWS - 1), sc(BIG_ROWS - 1))
    assert job.rows_total == BIG_ROWS
