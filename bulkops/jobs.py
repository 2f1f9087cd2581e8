"""Job files: read and validate rows as a stream.

A job is a CSV file with a header (or JSON Lines, ``.jsonl``), one operation on
one sender per row. Rows are yielded one at a time, so memory does not grow
with the file. A malformed row becomes an :class:`~bulkops.model.InvalidRow`
(it gets a result record and never reaches the network); a file that cannot be
read as a job raises :class:`~bulkops.errors.JobFileError` before any row.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import JobFileError
from .model import SERVICE_SID, InvalidRow, Op, Row, SenderKind

_OPS = {op.value: op for op in Op}
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class JobScan:
    """What a fast pass over the raw file found."""

    #: Physical lines, the header included (a last line without newline counts).
    lines: int


def scan(path: str | Path) -> JobScan:
    """Check the whole file is readable UTF-8 and count its lines, without parsing it.

    Runs before any request, so a file that is not UTF-8 halfway down stops the
    run before it starts, and the progress display knows its total.
    """
    name = str(path)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines, last = 0, b"\n"
    try:
        with open(path, "rb") as raw:
            while chunk := raw.read(_CHUNK):
                carried = len(decoder.getstate()[0])  # bytes held back from the last chunk
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad_line = lines + chunk.count(b"\n", 0, max(exc.start - carried, 0)) + 1
                    raise JobFileError(name, "not UTF-8 text", line=bad_line) from None
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise JobFileError(
                    name, "not UTF-8 text (truncated character)", line=lines + 1
                ) from None
    except OSError as exc:
        raise _unreadable(name, exc) from None
    if last != b"\n":
        lines += 1
    if not name.endswith(".jsonl"):
        _check_csv_structure(name)
    return JobScan(lines=lines)


def _check_csv_structure(name: str) -> None:
    """Parse the whole file once so malformed quoting stops the run before any request."""
    with open(name, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            raise JobFileError(name, f"malformed CSV: {exc}", line=start) from None


def _unreadable(name: str, exc: OSError) -> JobFileError:
    """The one-line error for a job file the OS will not give us."""
    if isinstance(exc, FileNotFoundError):
        return JobFileError(name, "no such file")
    if isinstance(exc, IsADirectoryError):
        return JobFileError(name, "is a directory, not a job file")
    return JobFileError(name, f"cannot read: {exc.strerror or exc}")


def iter_job(
    path: str | Path,
    *,
    default_op: Op | None = None,
    kind: SenderKind = SenderKind.SHORT_CODE,
) -> Iterator[Row | InvalidRow]:
    """Yield each row of the job at ``path``, valid or not, in file order.

    ``default_op`` applies to rows whose ``op`` column is absent or empty.
    Raises :class:`JobFileError` for a file that cannot be used (checked when
    the first row is requested, before any is yielded).
    """
    name = str(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise _unreadable(name, exc) from None
    with handle:
        try:
            if name.endswith(".jsonl"):
                yield from _read_jsonl(handle, name, default_op, kind)
            else:
                yield from _read_csv(handle, name, default_op, kind)
        except UnicodeDecodeError:
            raise JobFileError(name, "not UTF-8 text") from None


def _columns(kind: SenderKind) -> dict[str, str]:
    """Accepted header spellings (lower-cased) → canonical field."""
    twilio = kind.create_param.lower()  # e.g. shortcodesid
    return {
        "service_sid": "service",
        "servicesid": "service",
        kind.sid_column: "sender",
        twilio: "sender",
        "op": "op",
        "from_service_sid": "source",
        "fromservicesid": "source",
    }


def _read_csv(
    handle: Iterable[str], name: str, default_op: Op | None, kind: SenderKind
) -> Iterator[Row | InvalidRow]:
    reader = csv.reader(handle, strict=True)
    aliases = _columns(kind)
    start: int | None = None
    try:
        header_line = reader.line_num + 1
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header_line = reader.line_num + 1
            header = next(reader, None)  # blank lines before the header
        if header is None:
            raise JobFileError(name, "empty file: expected a header line", line=1)
        index: dict[str, int] = {}
        for i, cell in enumerate(header):
            field = aliases.get(cell.strip().lower())
            if field is not None and field not in index:
                index[field] = i
        _check_header(name, header_line, index, default_op, kind, found=header)
        si, ci, oi = index["service"], index["sender"], index.get("op")
        fi = index.get("source")
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells or not any(c.strip() for c in cells):
                continue
            n = len(cells)
            yield _make_row(
                line,
                cells[oi].strip() if oi is not None and oi < n else "",
                cells[si].strip() if si < n else "",
                cells[ci].strip() if ci < n else "",
                cells[fi].strip() if fi is not None and fi < n else "",
                default_op,
                kind,
            )
    except csv.Error as exc:
        line = start if start is not None else reader.line_num
        raise JobFileError(name, f"malformed CSV: {exc}", line=line) from None


def _check_header(
    name: str,
    line: int,
    index: dict[str, int],
    default_op: Op | None,
    kind: SenderKind,
    *,
    found: list[str],
) -> None:
    wanted = {"service": "service_sid", "sender": kind.sid_column}
    missing = [column for field, column in wanted.items() if field not in index]
    if missing:
        raise JobFileError(
            name,
            f"missing required column {', '.join(repr(m) for m in missing)} "
            f"(header has: {', '.join(repr(c.strip()) for c in found) or 'nothing'})",
            line=line,
        )
    if "op" not in index and default_op is None:
        raise JobFileError(name, "no 'op' column: give one, or pass --op", line=line)


def _read_jsonl(
    handle: Iterable[str], name: str, default_op: Op | None, kind: SenderKind
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
        fields: dict[str, str] = {}
        for key, value in obj.items():
            field = aliases.get(str(key).lower())
            if field is not None and field not in fields:
                fields[field] = "" if value is None else str(value).strip()
        yield _make_row(
            line,
            fields.get("op", ""),
            fields.get("service", ""),
            fields.get("sender", ""),
            fields.get("source", ""),
            default_op,
            kind,
        )


def _make_row(
    line: int,
    op_text: str,
    service: str,
    sender: str,
    source: str,
    default_op: Op | None,
    kind: SenderKind,
) -> Row | InvalidRow:
    op = _OPS.get(op_text.lower()) if op_text else default_op
    problem = None
    if op is None:
        problem = (
            f"unknown op {op_text!r} (expected one of: {', '.join(_OPS)})"
            if op_text
            else "missing op (empty 'op' and no --op given)"
        )
    elif not service:
        problem = "missing service_sid"
    elif not SERVICE_SID.fullmatch(service):
        problem = f"service_sid {service!r} is not a Messaging Service SID (MG + 32 hex digits)"
    elif not sender:
        problem = f"missing {kind.sid_column}"
    elif not kind.sid_pattern.fullmatch(sender):
        problem = f"{kind.sid_column} {sender!r} does not match {kind.sid_pattern.pattern}"
    elif op is Op.MIGRATE:
        if not source:
            problem = "missing from_service_sid (a migrate row needs the source service)"
        elif not SERVICE_SID.fullmatch(source):
            problem = f"from_service_sid {source!r} is not a Messaging Service SID"
        elif source == service:
            problem = "from_service_sid and service_sid are the same service"
    if problem is not None or op is None:
        shown_op = op.value if op else op_text
        return InvalidRow(line, shown_op, service, sender, problem or "", kind, source)
    return Row(line, op, service, sender, kind, source if op is Op.MIGRATE else None)
