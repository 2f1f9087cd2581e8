"""A job row's cells → a :class:`~bulkops.model.Row` or an :class:`~bulkops.model.InvalidRow`.

The columns a job file may have, their spellings, and the rules each value
must meet; :mod:`bulkops.jobs` reads the files and hands each row's cells here.

A job names its senders in one column (:data:`SENDER_COLUMNS`, in the order a
file with several is read by: the first present wins, the others are ignored,
so an old snapshot's ``short_code`` beside its ``short_code_sid`` changes
nothing). What may not be is one column twice: the same name, or two spellings
of it (``service_sid`` and ``ServiceSid``, ``short_code_sid`` and
``ShortCodeSid``) would leave it to chance which value a row gets, so
:func:`first_clash` finds them for the reader to refuse. ``sender`` takes any
kind; the kind's own columns take only that kind, and the ``*_sid`` columns
only its SIDs. An optional ``kind`` column
(``short_code``, ``phone_number``, ``alpha_sender``; empty = infer) says the
kind of each row; without it the kind is inferred from the value
(:func:`~bulkops.model.infer_kind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .model import SERVICE_SID, InvalidRow, Op, Row, SenderKind, infer_kind

_OPS = {op.value: op for op in Op}
_KINDS = {kind.value: kind for kind in SenderKind}


@dataclass(frozen=True, slots=True)
class SenderColumn:
    """A column that names senders: which kind it takes (None: any) and whether only SIDs."""

    #: The name messages use, e.g. ``short_code_sid``.
    name: str
    kind: SenderKind | None
    sids_only: bool = False


def _sender_columns() -> dict[str, SenderColumn]:
    """Spelling (lower-cased) → column, in reading order: ``sender``, SIDs, texts, numbers."""
    columns = {"sender": SenderColumn("sender", None)}
    for kind in SenderKind:
        spec = kind.spec
        if spec.creates_by_text:  # alpha_sender / AlphaSender: the text
            column = SenderColumn(kind.value, kind)
            columns |= {kind.value: column, spec.create_param.lower(): column}
        else:  # short_code_sid / ShortCodeSid, phone_number_sid / PhoneNumberSid
            column = SenderColumn(kind.sid_column, kind, sids_only=True)
            columns |= {kind.sid_column: column, spec.create_param.lower(): column}
    for kind in SenderKind:
        if not kind.spec.creates_by_text:  # short_code, phone_number: the number (or SID)
            columns[kind.spec.number_field] = SenderColumn(kind.spec.number_field, kind)
    return columns


#: Spellings (lower-cased) of the columns that name senders, in reading order.
SENDER_COLUMNS = _sender_columns()
#: Spellings (lower-cased) of the other columns → their field.
OTHER_COLUMNS = {
    "service_sid": "service",
    "servicesid": "service",
    "op": "op",
    "from_service_sid": "source",
    "fromservicesid": "source",
    "kind": "kind",
}
_ORDER = {spelling: i for i, spelling in enumerate(SENDER_COLUMNS)}


def pick_sender_column(spellings: list[str]) -> tuple[int, SenderColumn] | None:
    """The sender column to read among ``spellings`` (lower-cased, stripped): its index."""
    found = [(i, SENDER_COLUMNS[s]) for i, s in enumerate(spellings) if s in SENDER_COLUMNS]
    if not found:
        return None
    return min(found, key=lambda pair: _ORDER[spellings[pair[0]]])


def first_clash(spellings: list[str]) -> tuple[int, int] | None:
    """The first two positions of ``spellings`` (lower-cased, stripped) naming one column.

    The same field (``service``, ``op``, ``source``, ``kind``) or the same sender
    column, under one spelling or two; None when every column is named once.
    """
    seen: dict[str | SenderColumn, int] = {}
    for i, spelling in enumerate(spellings):
        column = OTHER_COLUMNS.get(spelling) or SENDER_COLUMNS.get(spelling)
        if column is None:
            continue
        if column in seen:
            return seen[column], i
        seen[column] = i
    return None


def missing_sender_column() -> str:
    """What a header without a sender column lacks, for the error message."""
    names = dict.fromkeys(column.name for column in SENDER_COLUMNS.values())
    return "for the senders (one of " + ", ".join(repr(n) for n in names) + ")"


class Cells(NamedTuple):
    """A row's fields as the file gives them: stripped, "" when absent."""

    op: str
    service: str
    sender: str
    source: str
    kind: str = ""


def make_row(
    line: int, cells: Cells, default_op: Op | None, column: SenderColumn
) -> Row | InvalidRow:
    """The row on ``line``: valid, or invalid with the first problem in column order."""
    op = _OPS.get(cells.op.lower()) if cells.op else default_op
    kind = sender_kind(cells.sender, column, cells.kind)
    problem = (
        (_op_problem(cells.op) if op is None else None)
        or _service_problem(cells.service)
        or (kind if isinstance(kind, str) else None)
        or (_source_problem(cells.source, cells.service) if op is Op.MIGRATE else None)
    )
    if problem is not None or op is None or isinstance(kind, str):
        shown_op = op.value if op else cells.op
        shown_kind = kind if isinstance(kind, SenderKind) else _shown_kind(cells, column)
        return InvalidRow(
            line, shown_op, cells.service, cells.sender, problem or "", shown_kind, cells.source
        )
    source = cells.source if op is Op.MIGRATE else None
    # A SID column's value matched its kind's SID pattern already: no second match.
    sid = cells.sender if column.sids_only else ""
    return Row(line, op, cells.service, cells.sender, kind, source, sid)


def sender_kind(value: str, column: SenderColumn, kind_cell: str = "") -> SenderKind | str:
    """The kind of sender ``value`` names in ``column``, or why it names none.

    ``kind_cell`` is the row's ``kind`` value ("" = infer from the value).
    """
    if not value:
        return f"missing {column.name}"
    declared = column.kind
    if kind_cell:
        named = _KINDS.get(kind_cell.lower())
        if named is None:
            return f"unknown kind {kind_cell!r} (expected one of: {', '.join(_KINDS)})"
        if declared is not None and named is not declared:
            return f"kind {kind_cell!r} contradicts the {column.name} column"
        declared = named
    if column.sids_only and declared is not None:
        if not declared.sid_pattern.fullmatch(value):
            return f"{column.name} {value!r} does not match {declared.sid_pattern.pattern}"
        return declared
    inferred = infer_kind(value)
    if declared is None:
        return inferred or f"{column.name} {value!r} is {_no_sender()}"
    spec = declared.spec
    if spec.number_pattern.fullmatch(value) or (
        not spec.creates_by_text and declared.sid_pattern.fullmatch(value)
    ):
        return declared
    if inferred is not None:
        return f"{column.name} {value!r} is {inferred.spec.a_label}, but kind is {declared.value}"
    return f"{column.name} {value!r} is not {spec.a_label} ({_forms(declared)})"


def _shown_kind(cells: Cells, column: SenderColumn) -> SenderKind | None:
    """The kind an invalid row's record shows: as declared, or inferred; None when neither tells."""
    return _KINDS.get(cells.kind.lower()) or column.kind or infer_kind(cells.sender)


def _forms(kind: SenderKind) -> str:
    spec = kind.spec
    if spec.creates_by_text:
        return spec.number_rule
    return f"{spec.sid_prefix} + 32 hex digits, or {spec.number_rule}"


def _no_sender() -> str:
    return "not a sender: expected " + "; ".join(
        f"{kind.spec.a_label} ({_forms(kind)})" for kind in SenderKind
    )


def _op_problem(op_text: str) -> str:
    if op_text:
        return f"unknown op {op_text!r} (expected one of: {', '.join(_OPS)})"
    return "missing op (empty 'op' and no --op given)"


def _service_problem(service: str) -> str | None:
    if not service:
        return "missing service_sid"
    if not SERVICE_SID.fullmatch(service):
        return f"service_sid {service!r} is not a Messaging Service SID (MG + 32 hex digits)"
    return None


def _source_problem(source: str, service: str) -> str | None:
    """A migrate row's source service: present, a service SID, not the target."""
    if not source:
        return "missing from_service_sid (a migrate row needs the source service)"
    if not SERVICE_SID.fullmatch(source):
        return f"from_service_sid {source!r} is not a Messaging Service SID"
    if source == service:
        return "from_service_sid and service_sid are the same service"
    return None


__all__ = [
    "OTHER_COLUMNS",
    "SENDER_COLUMNS",
    "Cells",
    "SenderColumn",
    "first_clash",
    "make_row",
    "missing_sender_column",
    "pick_sender_column",
    "sender_kind",
]
