"""Job files naming senders of every kind: columns, spellings, the kind column, inference."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import mg, pn, sc

from bulkops.errors import JobFileError
from bulkops.jobs import open_job
from bulkops.model import InvalidRow, Op, Row, SenderKind

SHORT, PHONE, ALPHA = SenderKind.SHORT_CODE, SenderKind.PHONE_NUMBER, SenderKind.ALPHA_SENDER


def read(tmp_path: Path, text: str, name: str = "job.csv") -> list[Row | InvalidRow]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(open_job(path, default_op=Op.ATTACH).rows())


def one(tmp_path: Path, header: str, cells: str) -> Row | InvalidRow:
    (row,) = read(tmp_path, f"{header}\n{cells}\n")
    return row


def test_a_mixed_file_names_senders_by_sid_number_and_text(tmp_path: Path) -> None:
    """One sender column holds every kind; each row's kind is inferred from its value."""
    rows = read(
        tmp_path,
        "service_sid,sender,op\n"
        f"{mg(1)},{sc(1)},attach\n"
        f"{mg(1)},{pn(2)},detach\n"
        f"{mg(1)},+14155550100,fetch\n"
        f"{mg(1)},12345,attach\n"
        f"{mg(1)},Acme Alerts,attach\n",
    )
    assert rows == [
        Row(2, Op.ATTACH, mg(1), sc(1), SHORT),
        Row(3, Op.DETACH, mg(1), pn(2), PHONE),
        Row(4, Op.FETCH, mg(1), "+14155550100", PHONE),
        Row(5, Op.ATTACH, mg(1), "12345", SHORT),
        Row(6, Op.ATTACH, mg(1), "Acme Alerts", ALPHA),
    ]
    assert [r.sender_sid for r in rows if isinstance(r, Row)] == [sc(1), pn(2), "", "", ""]


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("short_code_sid", sc(1), SHORT),
        ("ShortCodeSid", sc(1), SHORT),
        ("phone_number_sid", pn(1), PHONE),
        ("PhoneNumberSid", pn(1), PHONE),
        ("alpha_sender", "MyBrand", ALPHA),
        ("AlphaSender", "MyBrand", ALPHA),
        ("short_code", "12345", SHORT),
        ("phone_number", "+14155550100", PHONE),
        ("Phone_Number", "+14155550100", PHONE),
        ("sender", "+14155550100", PHONE),
    ],
)
def test_every_sender_column_spelling_is_read_as_its_kind(
    tmp_path: Path, column: str, value: str, kind: SenderKind
) -> None:
    """Each kind's columns, in snake case or Twilio's spelling, any letter case."""
    row = one(tmp_path, f"service_sid,{column}", f"{mg(1)},{value}")
    assert row == Row(2, Op.ATTACH, mg(1), value, kind)


def test_a_kind_column_declares_and_an_empty_cell_infers(tmp_path: Path) -> None:
    """kind says what a row names; an empty kind cell means: infer it from the value."""
    rows = read(
        tmp_path,
        "service_sid,sender,kind\n"
        f"{mg(1)},12345,short_code\n"
        f"{mg(1)},12345678,\n"
        f"{mg(1)},Brand,Alpha_Sender\n",
    )
    assert [(r.kind, r.sender) for r in rows] == [
        (SHORT, "12345"),
        (SHORT, "12345678"),
        (ALPHA, "Brand"),
    ]
    assert all(isinstance(r, Row) for r in rows)


S, SK = "service_sid,sender", "service_sid,sender,kind"
M = mg(1)


@pytest.mark.parametrize(
    ("header", "cells", "problem"),
    [
        (S, f"{M},12", "is not a sender: expected a short code"),
        (S, f"{M},Brand.com", "is not a sender"),
        (S, f"{M},ABCDEFGHIJKL", "is not a sender"),
        (S, f"{M},AI{'0' * 32}", "is not a sender"),
        (SK, f"{M},12345,phone", "unknown kind 'phone'"),
        (SK, f"{M},12345,phone_number", "is a short code, but kind is phone_number"),
        (SK, f"{M},{pn(1)},short_code", "is a phone number, but kind is short_code"),
        (SK, f"{M},123456789,short_code", "is not a short code (SC + 32 hex"),
        (SK, f"{M},12345,alpha_sender", "is a short code, but kind is alpha_sender"),
        ("service_sid,phone_number", f"{M},12345", "phone_number '12345' is a short code"),
        ("service_sid,phone_number,kind", f"{M},+14155550100,short_code", "contradicts the"),
        ("service_sid,alpha_sender", f"{M},12345", "alpha_sender '12345' is a short code"),
        ("service_sid,phone_number_sid", f"{M},+14155550100", "does not match ^PN"),
        (S, f"{M},", "missing sender"),
    ],
    ids=[
        "too-few-digits", "dot-in-alpha", "alpha-too-long", "alpha-sid", "unknown-kind",
        "short-code-as-phone", "phone-sid-as-short-code", "fits-no-short-code",
        "digits-as-alpha", "column-contradicts-value", "kind-contradicts-column",
        "alpha-column-digits", "sid-column-number", "empty",
    ],
)  # fmt: skip
def test_a_value_that_fits_no_kind_or_contradicts_its_kind_is_invalid(
    tmp_path: Path, header: str, cells: str, problem: str
) -> None:
    """Such a row is an InvalidRow naming its problem: it is recorded and never sent."""
    row = one(tmp_path, header, cells)
    assert isinstance(row, InvalidRow)
    assert problem in row.problem


def test_with_several_sender_columns_the_first_in_reading_order_wins(tmp_path: Path) -> None:
    """An old snapshot's short_code beside short_code_sid changes nothing: the SID is read."""
    row = one(tmp_path, "service_sid,short_code,short_code_sid,op", f"{mg(1)},12345,{sc(3)},attach")
    assert row == Row(2, Op.ATTACH, mg(1), sc(3), SHORT)


def test_a_header_without_any_sender_column_names_them_all(tmp_path: Path) -> None:
    """The error lists every column a job may name its senders in."""
    path = tmp_path / "job.csv"
    path.write_text(f"service_sid,op\n{mg(1)},attach\n", encoding="utf-8")
    with pytest.raises(JobFileError) as caught:
        open_job(path)
    assert caught.value.line == 1
    for column in ("'sender'", "'short_code_sid'", "'phone_number_sid'", "'alpha_sender'",
                   "'short_code'", "'phone_number'"):  # fmt: skip
        assert column in caught.value.problem


def test_json_lines_name_senders_and_kinds_per_line(tmp_path: Path) -> None:
    """Each JSON line may use its own sender key; kind works there too."""
    rows = read(
        tmp_path,
        f'{{"service_sid": "{mg(1)}", "sender": "+14155550100"}}\n'
        f'{{"ServiceSid": "{mg(1)}", "AlphaSender": "Acme"}}\n'
        f'{{"service_sid": "{mg(1)}", "sender": "12345", "kind": "phone_number"}}\n',
        "job.jsonl",
    )
    assert rows[:2] == [
        Row(1, Op.ATTACH, mg(1), "+14155550100", PHONE),
        Row(2, Op.ATTACH, mg(1), "Acme", ALPHA),
    ]
    assert isinstance(rows[2], InvalidRow)
    assert "but kind is phone_number" in rows[2].problem


@pytest.mark.parametrize(
    ("header", "cells", "problem"),
    [
        ("service_sid,alpha_sender", f"{mg(1)},Bad!", "'Bad!' is not an alpha sender ID ("),
        ("service_sid,sender,kind", f"{mg(1)},Acme,phone_number", "'Acme' is an alpha sender ID,"),
        ("service_sid,sender", f"{mg(1)},!!", "; an alpha sender ID (1 to 11 of"),
    ],
)
def test_messages_name_an_alpha_sender_id_with_its_article(
    tmp_path: Path, header: str, cells: str, problem: str
) -> None:
    """ "an alpha sender ID", never "a alpha sender ID"."""
    row = one(tmp_path, header, cells)
    assert isinstance(row, InvalidRow)
    assert problem in row.problem
    assert " a alpha" not in row.problem


def test_an_invalid_row_keeps_its_kind_for_its_record(tmp_path: Path) -> None:
    """An invalid row's record shows the kind its row declared or the value suggests."""
    rows = read(
        tmp_path,
        "service_sid,sender,kind,op\n"
        f"MGnope,+14155550100,,attach\n"
        f"{mg(1)},12,phone_number,attach\n",
    )
    assert [(type(r), r.kind) for r in rows] == [(InvalidRow, PHONE), (InvalidRow, PHONE)]


def test_the_example_jobs_read_without_an_invalid_row() -> None:
    """Every job in jobs/ is valid as shipped, the mixed example naming all three kinds.

    A desired file (``desired-*.csv``, for ``bulkops plan``) has no ``op``: plan reads it as attach.
    """
    kinds: set[SenderKind] = set()
    for path in sorted(Path(__file__).parent.parent.glob("jobs/*.csv")):
        desired = path.name.startswith("desired-")
        rows = list(open_job(path, default_op=Op.ATTACH if desired else None).rows())
        assert all(isinstance(r, Row) for r in rows), path
        kinds |= {r.kind for r in rows}
    assert kinds == set(SenderKind)
