"""The one writer of result logs: one JSON line per row result, the run's journal.

Each record is written with its newline and flushed the moment its row is
final (in a run, at the end of the event loop's turn that finished it: one
write for all the rows finished together), and fsynced at least every
``fsync_interval_s`` and on close. Before
appending, the journal cuts a torn tail (see :mod:`.reader` for the rule), so
every line stays a whole record. Rows that failed also go to
``<results>.failed.csv``, a job file that runs them again.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable
from json.encoder import encode_basestring
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from ..errors import UsageError
from ..model import Detail, ItemResult, Outcome, SenderKind
from .reader import intact_length
from .tally import Tally

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: The failed-rows job's header: each sender as its row wrote it, with its kind.
FAILED_COLUMNS = ("service_sid", "sender", "kind", "op", "from_service_sid")


#: The fields a record may have before its extra ones (an extra field of the same
#: name rewrites one in place: such a record goes through ``json`` itself).
_FIXED = frozenset(
    ("line", "op", "service_sid", "kind", "sender", "sender_sid", "outcome", "detail",
     "http_status", "twilio_code", "message", "attempts", "elapsed_ms", "finished_at",
     "throttled", "from_service_sid", "settled", *(kind.sid_column for kind in SenderKind))
)  # fmt: skip


#: What each kind's record adds after ``throttled``, built once: ``,"short_code_sid":``
#: for kinds named by SID, nothing for kinds created by text (alpha senders).
_SID_KEYS = MappingProxyType(
    {
        kind: "" if kind.spec.creates_by_text else f",{encode_basestring(kind.sid_column)}:"
        for kind in SenderKind
    }
)


def record_line(result: ItemResult) -> str:
    """``result.to_record()`` as compact JSON, without the dict or the encoder's set-up.

    Written thousands of times a second, so spelled out; the same characters as
    ``json`` (``ensure_ascii=False``, no spaces) gives for the record, which
    ``tests/test_journal.py`` checks over many records. Extra fields that share
    a name with a fixed one, and non-finite floats, go through ``json`` itself.
    """
    elapsed_ms = result.elapsed_ms
    extra: dict[str, Any] | None = None
    if result.resource or result.from_service_sid or result.settled:
        extra = {}
        if result.from_service_sid:
            extra["from_service_sid"] = result.from_service_sid
        if result.settled:
            extra["settled"] = True
        if result.resource.keys() & _FIXED:
            return _dumps(result.to_record())
        extra.update(result.resource)
    if type(elapsed_ms) is not float or not math.isfinite(elapsed_ms):
        return _dumps(result.to_record())
    text = encode_basestring
    message = result.message
    status, code = result.http_status, result.twilio_code
    kind, sid = result.kind, result.sender_sid
    sid_text = text(sid)
    line = (
        f'{{"line":{int.__repr__(result.line)},"op":{text(result.op)},'
        f'"service_sid":{text(result.service_sid)},"kind":{text(result.kind_name)},'
        f'"sender":{text(result.sender) if result.sender else sid_text},'
        f'"sender_sid":{sid_text},'
        f'"outcome":{text(result.outcome)},"detail":{text(result.detail)},'
        f'"http_status":{"null" if status is None else int.__repr__(status)},'
        f'"twilio_code":{"null" if code is None else int.__repr__(code)},'
        f'"message":{"null" if message is None else text(message)},'
        f'"attempts":{int.__repr__(result.attempts)},"elapsed_ms":{float.__repr__(elapsed_ms)},'
        f'"finished_at":{text(result.finished_at)},"throttled":{int.__repr__(result.throttled)}'
    )
    if kind is not None:
        sid_key = _SID_KEYS[kind]
        if sid_key:
            line = f"{line}{sid_key}{sid_text}"
    if extra:
        return f"{line},{_dumps(extra)[1:-1]}}}"
    return line + "}"


def default_results_path(job: str | Path, *, now: time.struct_time | None = None) -> Path:
    """``results/<job name>-<UTC timestamp>.jsonl``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", now or time.gmtime())
    return Path("results") / f"{Path(job).stem}-{stamp}.jsonl"


def failed_path(results: Path) -> Path:
    """``<results>.failed.csv``: the rows that failed, as a job file."""
    return results.with_name(results.stem + ".failed.csv")


def repair_torn_tail(path: Path) -> int:
    """Cut the torn tail of the log at ``path`` (see :mod:`.reader`); returns the bytes cut.

    Called before appending, so that every line stays a whole record. A missing
    file has nothing to cut (0). Raises :class:`OSError` when the file cannot be
    opened for writing.
    """
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            keep = intact_length(handle)
            if keep < size:
                handle.truncate(keep)
            return size - keep
    except FileNotFoundError:
        return 0


class ResultJournal:
    """Appends result records to a JSON Lines file; rows that failed also go to a job file.

    Use as a context manager: entering creates missing parent directories, cuts
    a torn tail, opens the log for appending and removes a failed-rows file left
    by an earlier run; it raises :class:`~bulkops.errors.UsageError` naming the
    path when the log cannot be written. ``monotonic`` (seconds) times the
    fsyncs; tests pass a fake clock. Given a ``tally``, every record written is
    counted in it too (a fresh log's report, without reading it back). With
    ``batched``, records written within one turn of the running event loop are
    flushed together when it ends, one ``write(2)`` for all of them instead of one
    each (that call cost 5 % of a run's CPU): a crash can then lose at most the
    records of that turn, which were not on disk a moment earlier either.
    Entering a batched journal needs a running loop.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fsync_interval_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        tally: Tally | None = None,
        batched: bool = False,
    ) -> None:
        self.path = Path(path)
        #: What the records written so far sum to, if asked for.
        self.tally = tally
        #: Results written, by outcome and detail.
        self.counts: Counter[tuple[Outcome, Detail]] = Counter()
        #: Bytes of a torn last line cut off when the journal was opened.
        self.repaired_bytes = 0
        self._fsync_interval_s = fsync_interval_s
        self._monotonic = monotonic
        self._file: IO[str] | None = None
        self._failed: IO[str] | None = None
        self._failed_writer: csv.DictWriter[str] | None = None
        self._last_sync = 0.0
        self._batched = batched
        self._call_soon: Callable[[Callable[[], None]], object] | None = None
        self._flush_due = False

    def __enter__(self) -> ResultJournal:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.repaired_bytes = repair_torn_tail(self.path)
            self._file = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write results: {exc.strerror or exc}") from None
        self._last_sync = self._monotonic()
        if self._batched:
            self._call_soon = asyncio.get_running_loop().call_soon
        failed_path(self.path).unlink(missing_ok=True)  # this run writes its own
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(self, result: ItemResult, *, replaces: ItemResult | None = None) -> None:
        """Write one final result as a line, flushed now (or batched: this turn); a failed row
        also as a job row.

        ``replaces`` is this run's earlier record of the same row (a row settled
        again at the end of the run): :attr:`counts` then count the row once, by
        its latest record, as a reader of the log does.
        """
        assert self._file is not None, "journal is not open"
        self._file.write(record_line(result) + "\n")
        if self._call_soon is None:
            self._file.flush()
        elif not self._flush_due:
            self._flush_due = True
            self._call_soon(self._flush)
        self.counts[result.outcome, result.detail] += 1
        if replaces is not None:
            self.counts[replaces.outcome, replaces.detail] -= 1
            self.counts += Counter()  # drop counts that fell to zero
        if self.tally is not None:  # every line, as a reader of the log counts them
            self.tally.add_result(result)
        if result.outcome is Outcome.FAILED:
            self._write_failed(result)
        self.sync_if_due()

    def sync_if_due(self) -> None:
        """fsync if the last one is ``fsync_interval_s`` old."""
        now = self._monotonic()
        if self._file is not None and now - self._last_sync >= self._fsync_interval_s:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._last_sync = now

    def _flush(self) -> None:
        """The turn that wrote records is over: flush them (all of them, in one write)."""
        self._flush_due = False
        if self._file is not None:
            self._file.flush()

    def _write_failed(self, result: ItemResult) -> None:
        if self._failed_writer is None:
            self._failed = open(failed_path(self.path), "w", encoding="utf-8", newline="")  # noqa: SIM115 - open across records; close() closes it
            self._failed_writer = csv.DictWriter(self._failed, FAILED_COLUMNS, lineterminator="\n")
            self._failed_writer.writeheader()
        self._failed_writer.writerow(
            {
                "service_sid": result.service_sid,
                "sender": result.sender or result.sender_sid,
                "kind": result.kind_name,
                "op": result.op,
                "from_service_sid": result.from_service_sid or "",
            }
        )
        assert self._failed is not None
        self._failed.flush()

    def close(self) -> None:
        """Flush, fsync and close the log and the failed-rows file; a second call does nothing."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
        if self._failed is not None:
            self._failed.close()
            self._failed = None
            self._failed_writer = None
