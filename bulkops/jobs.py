"""Job files: checked whole, then read and validated row by row as a stream.

A job is a CSV file with a header (or JSON Lines, ``.jsonl``), one operation on
one sender per row; :mod:`bulkops.rows` says which columns it may have and what
makes a row valid. :func:`open_job` reads the file once to check it as a whole
(readable, UTF-8, well-formed CSV, a usable header that names no column twice)
and count its rows, so a bad file stops a run before any request (a file that is
not UTF-8 is named for what it looks like, :mod:`bulkops.encoding`);
:meth:`Job.rows` then streams the rows, so memory does not grow with the file.
A malformed row becomes an :class:`~bulkops.model.InvalidRow` (it gets a result
record and never reaches the network).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .encoding import not_utf8_error, nul_error
from .errors import JobFileError
from .model import InvalidRow, Op, Row
from .rows import (
    OTHER_COLUMNS,
    Cells,
    SenderColumn,
    first_clash,
    make_row,
    missing_sender_column,
    pick_sender_column,
)

#: The sender column of a JSON Lines row with no key that names one.
_NO_SENDER_KEY = SenderColumn(f"sender: no key {missing_sender_column()}", None)


@dataclass(frozen=True, slots=True)
class Job:
    """A job file that passed :func:`open_job`'s check; :meth:`rows` streams it."""

    path: Path
    #: The operation of rows whose ``op`` is absent or empty (``--op``).
    default_op: Op | None
    #: Rows the file holds (valid or not): non-blank records after a CSV header.
    rows_total: int
    #: False when no valid row can name a number: a CSV whose sender column takes
    #: SIDs only (``short_code_sid``…), so no pass need look for numbers to resolve.
    names_numbers: bool = True

    def rows(self) -> Generator[Row | InvalidRow, None, None]:
        """Each row in file order, read as it is asked for (a new pass over the file).

        ``close()`` it (:func:`contextlib.closing`) to close the file before the end.
        """
        return _iter_rows(self.path, self.default_op)


def open_job(path: str | Path, *, default_op: Op | None = None) -> Job:
    """Check the job at ``path`` whole, in one pass, and return it.

    Raises :class:`JobFileError` naming the file (and line) when it cannot be
    read, is not UTF-8 (what it looks like, and the line of the first bad byte),
    is malformed CSV, or its header names a column twice or lacks a required
    one (or ``op`` with no ``default_op``).
    """
    name = str(path)
    handle = _open_text(name)
    with handle:
        try:
            if name.endswith(".jsonl"):
                total, names_numbers = _count_jsonl(handle, name), True
            else:
                total, column = _check_csv(handle, name, default_op)
                names_numbers = not column.sids_only
        except UnicodeDecodeError:
            raise not_utf8_error(name) from None
    return Job(Path(path), default_op, total, names_numbers)


def _open_text(name: str) -> IO[str]:
    try:
        return open(name, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise JobFileError.unreadable(name, exc) from None


def _count_jsonl(handle: IO[str], name: str) -> int:
    total = 0
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        if not total and "\x00" in text:
            raise nul_error(name, text, line)
        total += 1
    return total


def _check_csv(handle: IO[str], name: str, default_op: Op | None) -> tuple[int, SenderColumn]:
    """The rows a CSV job holds, and its sender column."""
    reader = csv.reader(handle, strict=True)
    start = 1
    try:
        _, column = _read_header(reader, name, default_op)
        total, start = 0, reader.line_num + 1
        for cells in reader:
            start = reader.line_num + 1
            # a first cell with text settles it without looking at the rest (most rows)
            total += bool(cells and cells[0].strip()) or any(cell.strip() for cell in cells)
    except csv.Error as exc:
        raise JobFileError(name, f"malformed CSV: {exc}", line=start) from None
    return total, column


def _read_header(
    reader: Iterator[list[str]], name: str, default_op: Op | None
) -> tuple[dict[str, int], SenderColumn]:
    """Skip blank lines, read the header, check it; field → column index, and the sender column."""
    line_num = getattr(reader, "line_num", 0)
    header_line = line_num + 1
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header_line = getattr(reader, "line_num", 0) + 1
        header = next(reader, None)
    if header is None:
        raise JobFileError(name, "empty file: expected a header line", line=1)
    if any("\x00" in cell for cell in header):
        raise nul_error(name, ",".join(header), header_line)
    spellings = [cell.strip().lower() for cell in header]
    clash = first_clash(spellings)
    if clash is not None:
        first, second = clash
        raise JobFileError(
            name,
            f"columns {first + 1} ({header[first].strip()!r}) and {second + 1} "
            f"({header[second].strip()!r}) name the same field: keep one of them",
            line=header_line,
        )
    index = {OTHER_COLUMNS[s]: i for i, s in enumerate(spellings) if s in OTHER_COLUMNS}
    sender = pick_sender_column(spellings)
    missing = ["'service_sid'"] if "service" not in index else []
    if sender is None:
        missing.append(missing_sender_column())
    else:
        index["sender"] = sender[0]
    if missing or sender is None:
        raise JobFileError(
            name,
            f"missing required column {', '.join(missing)} "
            f"(header has: {', '.join(repr(c.strip()) for c in header) or 'nothing'})",
            line=header_line,
        )
    if "op" not in index and default_op is None:
        raise JobFileError(name, "no 'op' column: give one, or pass --op", line=header_line)
    return index, sender[1]


def _iter_rows(path: Path, default_op: Op | None) -> Generator[Row | InvalidRow, None, None]:
    name = str(path)
    handle = _open_text(name)
    with handle:
        try:
            if name.endswith(".jsonl"):
                yield from _read_jsonl(handle, default_op)
            else:
                yield from _read_csv(handle, name, default_op)
        except UnicodeDecodeError:  # changed since open_job checked it
            raise not_utf8_error(name) from None


def _read_csv(
    handle: Iterable[str], name: str, default_op: Op | None
) -> Iterator[Row | InvalidRow]:
    reader = csv.reader(handle, strict=True)
    start = 1
    try:
        index, column = _read_header(reader, name, default_op)
        si, ci, oi = index["service"], index["sender"], index.get("op")
        fi, ki = index.get("source"), index.get("kind")
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            n = len(cells)
            fields = Cells(
                cells[oi].strip() if oi is not None and oi < n else "",
                cells[si].strip() if si < n else "",
                cells[ci].strip() if ci < n else "",
                cells[fi].strip() if fi is not None and fi < n else "",
                cells[ki].strip() if ki is not None and ki < n else "",
            )
            # A row with a field of its own is not blank: the whole row is looked at
            # only when those are empty (a cell of another column may still fill it).
            if not any(fields) and not any(c.strip() for c in cells):
                continue
            yield make_row(line, fields, default_op, column)
    except csv.Error as exc:  # changed since open_job checked it
        raise JobFileError(name, f"malformed CSV: {exc}", line=start) from None


def _read_jsonl(handle: Iterable[str], default_op: Op | None) -> Iterator[Row | InvalidRow]:
    """Each line's object, its keys matched as a CSV header's cells are (per line).

    A row whose keys name one column twice (a repeated key, or two spellings) is
    invalid: JSON would keep one value silently.
    """
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            pairs = json.loads(text, object_pairs_hook=_Pairs)
        except json.JSONDecodeError as exc:
            yield InvalidRow(line, "", "", "", f"not valid JSON: {exc.msg}")
            continue
        if not isinstance(pairs, _Pairs):
            yield InvalidRow(line, "", "", "", "not a JSON object")
            continue
        keys = [str(key) for key, _ in pairs]
        values = [("" if v is None else str(v).strip()) for _, v in pairs]
        spellings = [key.strip().lower() for key in keys]
        clash = first_clash(spellings)
        if clash is not None:
            first, second = (keys[i] for i in clash)
            problem = f"keys {first!r} and {second!r} name the same field: keep one of them"
            yield InvalidRow(line, "", "", "", problem)
            continue
        found = {
            OTHER_COLUMNS[s]: v
            for s, v in zip(spellings, values, strict=True)
            if s in OTHER_COLUMNS
        }
        picked = pick_sender_column(spellings)
        column = picked[1] if picked else _NO_SENDER_KEY
        fields = Cells(
            found.get("op", ""),
            found.get("service", ""),
            values[picked[0]] if picked else "",
            found.get("source", ""),
            found.get("kind", ""),
        )
        yield make_row(line, fields, default_op, column)


class _Pairs(list[tuple[str, object]]):
    """A JSON object's members in order, duplicates kept (``json``'s ``object_pairs_hook``)."""
