"""Job files: checked whole, then read and validated row by row as a stream.

A job is a CSV file with a header (or JSON Lines, ``.jsonl``), one operation on
one sender per row. :func:`open_job` reads the file once to check it as a whole
(readable, UTF-8, well-formed CSV, a usable header) and count its rows, so a bad
file stops a run before any request; :meth:`Job.rows` then streams the rows, so
memory does not grow with the file. A malformed row becomes an
:class:`~bulkops.model.InvalidRow` (it gets a result record and never reaches
the network).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from .errors import JobFileError
from .model import SERVICE_SID, InvalidRow, Op, Row, SenderKind

_OPS = {op.value: op for op in Op}
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Job:
    """A job file that passed :func:`open_job`'s check; :meth:`rows` streams it."""

    path: Path
    #: The operation of rows whose ``op`` is absent or empty (``--op``).
    default_op: Op | None
    kind: SenderKind
    #: Rows the file holds (valid or not): non-blank records after a CSV header.
    rows_total: int

    def rows(self) -> Generator[Row | InvalidRow, None, None]:
        """Each row in file order, read as it is asked for (a new pass over the file).

        ``close()`` it (:func:`contextlib.closing`) to close the file before the end.
        """
        return _iter_rows(self.path, self.default_op, self.kind)


def open_job(
    path: str | Path, *, default_op: Op | None = None, kind: SenderKind = SenderKind.SHORT_CODE
) -> Job:
    """Check the job at ``path`` whole, in one pass, and return it.

    Raises :class:`JobFileError` naming the file (and line) when it cannot be
    read, is not UTF-8 (the line of the first bad byte), is malformed CSV, or
    its header lacks a required column (or ``op`` with no ``default_op``).
    """
    name = str(path)
    handle = _open_text(name)
    with handle:
        try:
            if name.endswith(".jsonl"):
                total = sum(1 for text in handle if text.strip())
            else:
                total = _check_csv(handle, name, default_op, kind)
        except UnicodeDecodeError:
            raise _not_utf8(name) from None
    return Job(Path(path), default_op, kind, total)


def _open_text(name: str) -> IO[str]:
    try:
        return open(name, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise JobFileError.unreadable(name, exc) from None


def _check_csv(handle: IO[str], name: str, default_op: Op | None, kind: SenderKind) -> int:
    reader = csv.reader(handle, strict=True)
    start = 1
    try:
        _read_header(reader, name, default_op, kind)
        total, start = 0, reader.line_num + 1
        for cells in reader:
            start = reader.line_num + 1
            total += any(cell.strip() for cell in cells)
    except csv.Error as exc:
        raise JobFileError(name, f"malformed CSV: {exc}", line=start) from None
    return total


def _not_utf8(name: str) -> JobFileError:
    """The error for a file that is not UTF-8, naming the line of its first bad byte."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = 0
    with open(name, "rb") as raw:
        while chunk := raw.read(_CHUNK):
            carried = len(decoder.getstate()[0])  # bytes held back from the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk.count(b"\n", 0, max(exc.start - carried, 0)) + 1
                return JobFileError(name, "not UTF-8 text", line=line)
            lines += chunk.count(b"\n")
    return JobFileError(name, "not UTF-8 text (truncated character)", line=lines + 1)


def _columns(kind: SenderKind) -> dict[str, str]:
    """Accepted header spellings (lower-cased) → canonical field."""
    return {
        "service_sid": "service",
        "servicesid": "service",
        kind.sid_column: "sender",
        kind.create_param.lower(): "sender",  # e.g. shortcodesid
        "op": "op",
        "from_service_sid": "source",
        "fromservicesid": "source",
    }


def _read_header(
    reader: Iterator[list[str]], name: str, default_op: Op | None, kind: SenderKind
) -> dict[str, int]:
    """Skip blank lines, read the header, check it; canonical field → column index."""
    line_num = getattr(reader, "line_num", 0)
    header_line = line_num + 1
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header_line = getattr(reader, "line_num", 0) + 1
        header = next(reader, None)
    if header is None:
        raise JobFileError(name, "empty file: expected a header line", line=1)
    aliases = _columns(kind)
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        field = aliases.get(cell.strip().lower())
        if field is not None and field not in index:
            index[field] = i
    wanted = {"service": "service_sid", "sender": kind.sid_column}
    missing = [column for field, column in wanted.items() if field not in index]
    if missing:
        raise JobFileError(
            name,
            f"missing required column {', '.join(repr(m) for m in missing)} "
            f"(header has: {', '.join(repr(c.strip()) for c in header) or 'nothing'})",
            line=header_line,
        )
    if "op" not in index and default_op is None:
        raise JobFileError(name, "no 'op' column: give one, or pass --op", line=header_line)
    return index


def _iter_rows(
    path: Path, default_op: Op | None, kind: SenderKind
) -> Generator[Row | InvalidRow, None, None]:
    name = str(path)
    handle = _open_text(name)
    with handle:
        try:
            if name.endswith(".jsonl"):
                yield from _read_jsonl(handle, default_op, kind)
            else:
                yield from _read_csv(handle, name, default_op, kind)
        except UnicodeDecodeError:  # changed since open_job checked it
            raise _not_utf8(name) from None


def _read_csv(
    handle: Iterable[str], name: str, default_op: Op | None, kind: SenderKind
) -> Iterator[Row | InvalidRow]:
    reader = csv.reader(handle, strict=True)
    start = 1
    try:
        index = _read_header(reader, name, default_op, kind)
        si, ci, oi = index["service"], index["sender"], index.get("op")
        fi = index.get("source")
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            n = len(cells)
            fields = _Fields(
                cells[oi].strip() if oi is not None and oi < n else "",
                cells[si].strip() if si < n else "",
                cells[ci].strip() if ci < n else "",
                cells[fi].strip() if fi is not None and fi < n else "",
            )
            yield _make_row(line, fields, default_op, kind)
    except csv.Error as exc:  # changed since open_job checked it
        raise JobFileError(name, f"malformed CSV: {exc}", line=start) from None


def _read_jsonl(
    handle: Iterable[str], default_op: Op | None, kind: SenderKind
) -> Iterator[Row | InvalidRow]:
    aliases = _columns(kind)
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield InvalidRow(line, "", "", "", f"not valid JSON: {exc.msg}", kind)
            continue
        if not isinstance(obj, dict):
            yield InvalidRow(line, "", "", "", "not a JSON object", kind)
            continue
        found: dict[str, str] = {}
        for key, value in obj.items():
            field = aliases.get(str(key).lower())
            if field is not None and field not in found:
                found[field] = "" if value is None else str(value).strip()
        fields = _Fields(
            found.get("op", ""),
            found.get("service", ""),
            found.get("sender", ""),
            found.get("source", ""),
        )
        yield _make_row(line, fields, default_op, kind)


class _Fields(NamedTuple):
    """A row's four fields as the file gives them: stripped, "" when absent."""

    op: str
    service: str
    sender: str
    source: str


def _make_row(
    line: int, fields: _Fields, default_op: Op | None, kind: SenderKind
) -> Row | InvalidRow:
    op = _OPS.get(fields.op.lower()) if fields.op else default_op
    problem = _problem(op, fields, kind)
    if problem is not None or op is None:
        shown_op = op.value if op else fields.op
        return InvalidRow(
            line, shown_op, fields.service, fields.sender, problem or "", kind, fields.source
        )
    source = fields.source if op is Op.MIGRATE else None
    return Row(line, op, fields.service, fields.sender, kind, source)


def _problem(op: Op | None, fields: _Fields, kind: SenderKind) -> str | None:
    """Why a row cannot be sent, or None: the first problem, in column order."""
    if op is None:
        return _op_problem(fields.op)
    return (
        _service_problem(fields.service)
        or _sender_problem(fields.sender, kind)
        or (_source_problem(fields.source, fields.service) if op is Op.MIGRATE else None)
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


def _sender_problem(sender: str, kind: SenderKind) -> str | None:
    if not sender:
        return f"missing {kind.sid_column}"
    if not kind.sid_pattern.fullmatch(sender):
        return f"{kind.sid_column} {sender!r} does not match {kind.sid_pattern.pattern}"
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
