"""The one reader of result logs, with one rule for a torn last line.

A result log is JSON Lines: one object per row result, each with a string
``outcome``, each ending with a newline (``ResultJournal`` writes the record and
its newline in one write). ``--resume`` (:func:`check_results_path`,
:func:`read_done_keys`), ``bulkops
report`` and the run's own summary (:func:`read_results`) and the journal's
repair before appending (:func:`intact_length`) all read it by this rule:

* Blank lines are skipped.
* The **last** non-blank line is *torn* (what a process killed mid-write
  leaves) when it has no newline at the end, or is not JSON (or not UTF-8). A
  torn line is skipped, never counted, and reported: :attr:`ResultsReader.torn_line`
  keeps its number, and the journal cuts it off before it appends. A last record
  that parses but lacks its newline is torn too: the journal cuts it, so a
  resume must run its row again.
* A line that is not JSON with more lines after it is a
  :class:`~bulkops.errors.JobFileError` naming ``FILE:LINE``: the log was damaged
  some other way, and guessing would hide it.
* JSON that is not a result record (not an object with a string ``outcome``,
  e.g. a JSON job file) is a ``JobFileError`` wherever it is: no partial write
  makes one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import JobFileError, UsageError
from ..keys import DigestSet, key_digest
from ..model import Outcome, SenderKind

#: Outcomes after which a resume does not run the row again.
DONE = frozenset({Outcome.SUCCEEDED.value, Outcome.INVALID.value})
_NOT_A_RECORD = "not a result record (a JSON object with an 'outcome')"
_decode = json.JSONDecoder().decode
_KINDS = {kind.value: kind for kind in SenderKind}


def record_key(record: dict[str, Any]) -> tuple[str, ...]:
    """The content key of a result record, as :attr:`bulkops.model.Row.key` builds it.

    ``(op, service_sid, kind, sender, from_service_sid)``, missing fields as
    ``""``; the sender is the alpha text for kinds created by text, else the SID
    (``sender_sid``, or ``short_code_sid`` in logs written before issue 10, whose
    records have no ``kind`` and are all short codes). A record whose kind is
    none of the kinds (:data:`~bulkops.model.UNKNOWN_KIND`: an invalid row) keeps
    it, and its sender as written.
    """
    name = str(record.get("kind") or SenderKind.SHORT_CODE.value)
    written = str(record.get("sender") or "")
    kind = _KINDS.get(name)
    if kind is None:  # an invalid row whose kind could not be told: as written
        sender = written
    else:
        sid = record.get("sender_sid") or record.get(kind.sid_column)
        sender = kind.spec.identity(written, str(sid or ""))
    return (
        str(record.get("op") or ""),
        str(record.get("service_sid") or ""),
        name,
        sender,
        str(record.get("from_service_sid") or ""),
    )


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A line that yields no record, and why."""

    problem: str
    #: True when a kill mid-write could have left it: torn if it is the last line.
    may_be_torn: bool


def _parse(raw: bytes) -> dict[str, Any] | _Unreadable:
    """The record on one line (``raw`` with its newline, if any), or why there is none."""
    try:
        value = _decode(raw.decode())
    except UnicodeDecodeError:
        return _Unreadable("not a result record: not UTF-8 text", may_be_torn=True)
    except json.JSONDecodeError as exc:
        return _Unreadable(f"not a result record: invalid JSON ({exc.msg})", may_be_torn=True)
    if not isinstance(value, dict) or not isinstance(value.get("outcome"), str):
        return _Unreadable(_NOT_A_RECORD, may_be_torn=False)
    if not raw.endswith(b"\n"):
        return _Unreadable("not a result record: no newline at the end", may_be_torn=True)
    return value


class ResultsReader:
    """Streams the records of a result log by the rule above; see :func:`read_results`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: Line number (1-based) of a torn last line that was skipped, once the
        #: reader is exhausted; None when the log ends cleanly.
        self.torn_line: int | None = None
        try:
            with open(self.path, "rb"):  # missing, a directory or denied: say so now
                pass
        except OSError as exc:
            raise _unreadable(self.path, exc) from None
        self._records = self._read()

    def __iter__(self) -> ResultsReader:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._records)

    def _read(self) -> Iterator[dict[str, Any]]:
        name = str(self.path)
        pending: tuple[int, _Unreadable] | None = None  # torn, unless more lines follow
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - only open()'s errors are caught here
        except OSError as exc:
            raise _unreadable(self.path, exc) from None
        with handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                if pending is not None:
                    raise JobFileError(name, pending[1].problem, line=pending[0])
                parsed = _parse(raw)
                if isinstance(parsed, _Unreadable):
                    if not parsed.may_be_torn:
                        raise JobFileError(name, parsed.problem, line=number)
                    pending = (number, parsed)
                    continue
                yield parsed
        if pending is not None:
            self.torn_line = pending[0]


def _unreadable(path: Path, exc: OSError) -> JobFileError:
    return JobFileError.unreadable(str(path), exc, what="result log")


def read_results(path: str | Path) -> ResultsReader:
    """Stream the records (JSON objects) of the result log at ``path``, torn line skipped.

    Raises :class:`~bulkops.errors.JobFileError` at once for a missing file or a
    directory, and while iterating for a line the module's rule rejects (with its
    line number). After the last record, :attr:`ResultsReader.torn_line` tells
    whether a torn last line was skipped.
    """
    return ResultsReader(path)


def check_results_path(results: str | Path | None, *, resume: bool) -> None:
    """Refuse a ``--results`` no run can use, before the run starts anything.

    Raises :class:`~bulkops.errors.UsageError` for ``resume`` without ``results``
    (a resume continues a log), and :class:`~bulkops.errors.JobFileError` for a
    ``results`` that exists but cannot be read (a directory, say). A missing file
    is fine: the run starts it.
    """
    if not results:
        if resume:
            raise UsageError("--resume needs --results PATH: the result log of the run to resume")
        return
    try:
        with open(results, "rb"):
            pass
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _unreadable(Path(results), exc) from None


def read_done_keys(path: str | Path) -> DigestSet:
    """Digests (:func:`bulkops.keys.key_digest` of :func:`record_key`) of the done rows.

    A row is done when a record of it has an outcome in :data:`DONE` (succeeded
    or invalid); a torn last line never counts. A missing file means nothing is
    done (a first run with ``--resume``). Raises
    :class:`~bulkops.errors.JobFileError` as :func:`read_results` does.
    """
    done = DigestSet()
    if not Path(path).exists():
        return done
    for record in read_results(path):
        if record["outcome"] in DONE:
            done.add(key_digest(record_key(record)))
    return done


def intact_length(handle: BinaryIO) -> int:
    """The byte length of the log open in ``handle`` without its torn tail.

    The tail cut is the torn last line of the rule above with any blank lines
    after it, or (when the last line is whole) only trailing blanks that lack a
    newline. Equals the file's size when there is nothing to cut. Reads the file
    backwards from its end, in blocks; moves ``handle``'s position.
    """
    size = handle.seek(0, os.SEEK_END)
    step = 65536
    while True:  # widen the tail read until it holds the whole last non-blank line
        start = max(0, size - step)
        handle.seek(start)
        tail = handle.read(size - start)
        body = tail.rstrip()
        before = body.rfind(b"\n")
        if before >= 0 or start == 0:
            break
        step *= 2
    if body:
        end = tail.find(b"\n", len(body))
        line = tail[before + 1 : end + 1 if end >= 0 else len(tail)]
        parsed = _parse(line)
        if isinstance(parsed, _Unreadable) and parsed.may_be_torn:
            return start + before + 1
    if tail.endswith(b"\n") or not tail:
        return size
    return start + tail.rfind(b"\n") + 1
