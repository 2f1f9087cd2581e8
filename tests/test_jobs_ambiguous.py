"""Job files that could be read two ways are refused; a non-UTF-8 file says what it is."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from support import mg, sc

from bulkops.errors import JobFileError
from bulkops.jobs import open_job
from bulkops.model import InvalidRow, Op


def write(tmp_path: Path, content: bytes, name: str = "job.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("service_sid,service_sid,short_code_sid,op", "columns 1 ('service_sid') and 2"),
        (
            "service_sid,short_code_sid,ServiceSid,op",
            "columns 1 ('service_sid') and 3 ('ServiceSid')",
        ),
        ("op,short_code_sid,service_sid,ShortCodeSid", "columns 2 ('short_code_sid') and 4"),
        ("op,service_sid,short_code_sid,OP", "columns 1 ('op') and 4 ('OP')"),
        ("service_sid,short_code_sid,from_service_sid,FromServiceSid", "columns 3"),
    ],
    ids=["same-name-twice", "two-spellings", "sender-twice", "op-twice", "source-twice"],
)
def test_a_header_naming_a_field_twice_is_a_file_error(
    tmp_path: Path, header: str, named: str
) -> None:
    """Two columns for one field would leave it to chance which value wins: refused, named."""
    path = write(tmp_path, f"{header}\n{mg(1)},{mg(2)},{sc(1)},attach\n".encode())
    with pytest.raises(JobFileError, match="name the same field") as caught:
        open_job(path, default_op=Op.ATTACH)
    assert caught.value.line == 1
    assert named in caught.value.problem


def test_a_jsonl_row_naming_a_field_twice_is_invalid(tmp_path: Path) -> None:
    """In JSON Lines the row, not the file, is ambiguous: it becomes an invalid row."""
    line = f'{{"service_sid": "{mg(1)}", "ServiceSid": "{mg(2)}", "short_code_sid": "{sc(1)}"}}\n'
    path = write(tmp_path, line.encode(), name="job.jsonl")
    (row,) = list(open_job(path, default_op=Op.ATTACH).rows())
    assert isinstance(row, InvalidRow)
    assert (
        row.problem == "keys 'service_sid' and 'ServiceSid' name the same field: keep one of them"
    )


def test_a_jsonl_row_repeating_a_key_is_invalid(tmp_path: Path) -> None:
    """JSON allows a repeated key and keeps the last; bulkops refuses the row instead."""
    sids = f'"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}"'
    line = f'{{"op": "attach", "op": "detach", {sids}}}\n'
    path = write(tmp_path, line.encode(), name="job.jsonl")
    (row,) = list(open_job(path).rows())
    assert isinstance(row, InvalidRow)
    assert "keys 'op' and 'op'" in row.problem


@pytest.mark.parametrize(
    ("encoding", "bom", "said"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16 (little-endian"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16 (big-endian"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "UTF-32 (little-endian"),
    ],
    ids=["utf16-le", "utf16-be", "utf32-le"],
)
def test_a_unicode_text_file_is_named_by_its_byte_order_mark(
    tmp_path: Path, encoding: str, bom: bytes, said: str
) -> None:
    """What spreadsheets save as "Unicode text": named, at line 1, with how to save it as UTF-8."""
    text = f"service_sid,short_code_sid,op\n{mg(1)},{sc(1)},attach\n"
    path = write(tmp_path, bom + text.encode(encoding))
    with pytest.raises(JobFileError) as caught:
        open_job(path)
    assert caught.value.line == 1
    assert f"not UTF-8 text: it is {said}" in caught.value.problem
    assert 'Save As "CSV UTF-8"' in caught.value.problem
    assert " ;" not in caught.value.problem


@pytest.mark.parametrize(
    ("encoding", "name", "said"),
    [
        ("utf-16-le", "job.csv", "UTF-16LE"),
        ("utf-16-be", "job.csv", "UTF-16BE"),
        ("utf-16-le", "job.jsonl", "UTF-16LE"),
    ],
    ids=["csv-little-endian", "csv-big-endian", "jsonl"],
)
def test_utf16_without_a_byte_order_mark_is_named_by_its_nuls(
    tmp_path: Path, encoding: str, name: str, said: str
) -> None:
    """It decodes as UTF-8 with a NUL beside every letter: not "missing required column"
    with a header of \\x00s, but what it looks like and how to save it as UTF-8."""
    if name.endswith(".jsonl"):
        text = f'{{"service_sid": "{mg(1)}", "short_code_sid": "{sc(1)}", "op": "attach"}}\n'
    else:
        text = f"service_sid,short_code_sid,op\n{mg(1)},{sc(1)},attach\n"
    path = write(tmp_path, text.encode(encoding), name=name)
    with pytest.raises(JobFileError) as caught:
        open_job(path)
    problem = caught.value.problem
    assert caught.value.line == 1
    assert f"it looks like {said} saved without a byte-order mark; save it as UTF-8" in problem
    assert f"iconv -t UTF-8 -f {said} FILE > NEW.csv" in problem
    assert "\x00" not in problem


def test_a_latin1_byte_is_named_with_its_line_and_place(tmp_path: Path) -> None:
    """A Windows-1252/Latin-1 file: the line, the byte and where in the line it is."""
    content = f"service_sid,short_code_sid,op,note\n{mg(1)},{sc(1)},attach,ok\n".encode()
    content += f"{mg(2)},{sc(2)},attach,caf".encode() + b"\xe9\n"
    path = write(tmp_path, content)
    with pytest.raises(JobFileError) as caught:
        open_job(path)
    assert caught.value.line == 3
    column = len(f"{mg(2)},{sc(2)},attach,caf") + 1
    assert f"byte 0xE9 at byte {column} of the line" in caught.value.problem
    assert "(perhaps Windows-1252 or Latin-1); save it as UTF-8" in caught.value.problem


def test_the_cli_prints_one_line_and_exits_2_for_a_utf16_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bulkops run`` on a UTF-16 file: exit 2, one line naming the file and the encoding."""
    from bulkops.commands.cli import main

    text = f"service_sid,short_code_sid,op\n{mg(1)},{sc(1)},attach\n"
    path = write(tmp_path, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert main(["run", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"bulkops: error: {path}:1: not UTF-8 text: it is UTF-16")


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("service_sid,phone_number_sid,PhoneNumberSid,op", "columns 2 ('phone_number_sid') and 3"),
        ("service_sid,alpha_sender,AlphaSender,op", "columns 2 ('alpha_sender') and 3"),
        ("service_sid,sender,Sender,op", "columns 2 ('sender') and 3 ('Sender')"),
        ("service_sid,sender,kind,KIND,op", "columns 3 ('kind') and 4 ('KIND')"),
    ],
    ids=["phone-number-sid", "alpha-sender", "sender", "kind"],
)
def test_every_kind_s_sender_column_named_twice_is_a_file_error(
    tmp_path: Path, header: str, named: str
) -> None:
    """Issue 10's columns follow issue 11's rule: one column under two spellings is refused."""
    path = write(tmp_path, f"{header}\n{mg(1)},x,y,z,attach\n".encode())
    with pytest.raises(JobFileError, match="name the same field") as caught:
        open_job(path)
    assert named in caught.value.problem


def test_two_different_sender_columns_are_not_a_clash(tmp_path: Path) -> None:
    """``sender`` beside ``short_code`` (an old snapshot's number) is issue 10's rule: the
    first sender column of the list is read, the other ignored."""
    content = f"service_sid,short_code,sender,op\n{mg(1)},24601,{sc(1)},attach\n"
    (row,) = list(open_job(write(tmp_path, content.encode())).rows())
    assert not isinstance(row, InvalidRow)
    assert row.sender_sid == sc(1)


def test_a_jsonl_row_naming_a_sender_column_twice_is_invalid(tmp_path: Path) -> None:
    """``phone_number_sid`` and ``PhoneNumberSid`` in one object: the row is invalid."""
    line = (
        f'{{"service_sid": "{mg(1)}", "op": "attach", '
        '"phone_number_sid": "PN1", "PhoneNumberSid": "PN2"}\n'
    )
    (row,) = list(open_job(write(tmp_path, line.encode(), name="job.jsonl")).rows())
    assert isinstance(row, InvalidRow)
    assert "keys 'phone_number_sid' and 'PhoneNumberSid'" in row.problem
