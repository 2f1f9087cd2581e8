"""The one writer of result logs: one JSON line per row result, the run's journal.

Each record (:func:`~.line.record_line`) is written with its newline and
flushed the moment its row is final (in a run, at the end of the event loop's
turn that finished it: one write for all the rows finished together), and
fsynced at least every ``fsync_interval_s`` and on close. Before appending, the
journal cuts a torn tail (see :mod:`.reader` for the rule), so every line stays
a whole record. Rows that failed also go to
``<results>.failed.csv``, a job file that runs them again.
"""

from __future__ import annotations

import asyncio
import csv
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, NoReturn

from ..errors import UsageError
from ..model import Detail, ItemResult, Outcome
from .line import record_line
from .reader import intact_length
from .tally import Tally

#: The failed-rows job's header: each sender as its row wrote it, with its kind.
FAILED_COLUMNS = ("service_sid", "sender", "kind", "op", "from_service_sid")


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


#: The most lines a batched journal holds before handing them to the file.
_LINES_PER_WRITE = 256


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
        #: Records written and not yet flushed, with the record each replaces.
        self._pending: list[tuple[ItemResult, ItemResult | None]] = []
        #: Lines not yet handed to the file (without their newlines): a batched journal's turn.
        self._lines: list[str] = []
        #: The write error that kept records from the disk, and whether it was raised yet.
        self._broken: OSError | None = None
        self._raised = False

    def __enter__(self) -> ResultJournal:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.repaired_bytes = repair_torn_tail(self.path)
            # A lone surrogate (a JSON job's "\ud800", a text from Twilio) cannot be
            # UTF-8: written as its JSON escape, it reads back as the same string.
            self._file = open(self.path, "a", encoding="utf-8", errors="backslashreplace")
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
        its latest record, as a reader of the log does. A record is counted (in
        :attr:`counts` and the tally) once it is flushed. Raises the
        :class:`OSError` of a write or flush that failed, this one's or a turn's.
        """
        assert self._file is not None, "journal is not open"
        if self._broken is not None:  # a turn's flush failed: stop the run, as a write would
            self._fail(self._broken)
        self._lines.append(record_line(result))
        self._pending.append((result, replaces))
        if self._call_soon is None:  # unbatched: on disk now
            self._flush()
        else:  # the turn's lines go to the file together, when it ends (_flush)
            if len(self._lines) >= _LINES_PER_WRITE:  # a long turn (a run of invalid rows)
                self._write_lines()
            if not self._flush_due:
                self._flush_due = True
                self._call_soon(self._flush_later)
        if result.outcome is Outcome.FAILED:
            self._write_failed(result)
        self.sync_if_due()

    def sync_if_due(self) -> None:
        """fsync if the last one is ``fsync_interval_s`` old; raises the OSError of a failure."""
        now = self._monotonic()
        if self._file is not None and now - self._last_sync >= self._fsync_interval_s:
            self._flush()
            try:
                os.fsync(self._file.fileno())
            except OSError as exc:
                self._fail(exc)
            self._last_sync = now

    def _flush(self) -> None:
        """Flush the log and count what it put on disk; raises (and keeps) an OSError.

        After a failure the records since the last flush are not counted: some may
        not be on disk, and the run's summary must not claim them.
        """
        assert self._file is not None
        if self._lines:
            self._write_lines()
        try:
            self._file.flush()
        except OSError as exc:
            self._pending.clear()
            self._fail(exc)
        counts, tally, replaced = self.counts, self.tally, False
        for result, replaces in self._pending:
            counts[result.outcome, result.detail] += 1
            if replaces is not None:
                counts[replaces.outcome, replaces.detail] -= 1
                replaced = True
            if tally is not None:  # every line, as a reader of the log counts them
                tally.add_result(result)
        self._pending.clear()
        if replaced:
            self.counts += Counter()  # drop counts that fell to zero

    def _write_lines(self) -> None:
        """Hand the lines to the file as one str; raises (and keeps) an OSError."""
        assert self._file is not None
        text = "\n".join(self._lines) + "\n"
        try:
            self._file.write(text)  # a full buffer writes, and may fail
        except OSError as exc:
            self._lines.clear()
            self._pending.clear()  # the text layer dropped what it could not write
            self._fail(exc)
        self._lines.clear()  # only once written: anything but an OSError leaves them, loud

    def _flush_later(self) -> None:
        """The turn that wrote records is over: flush them (all of them, in one write).

        A callback of the loop, so an error is kept, not raised (asyncio would
        only log it): the next :meth:`record` raises it, or :meth:`close`.
        """
        self._flush_due = False
        if self._file is not None and self._broken is None:
            try:
                self._flush()
            except OSError:
                self._raised = False  # nobody heard it: the next record or close raises it

    def _fail(self, exc: OSError) -> NoReturn:
        """Keep ``exc`` as what broke the journal (the first such), and raise it: reported."""
        self._broken = self._broken or exc
        self._raised = True
        raise exc

    def _write_failed(self, result: ItemResult) -> None:
        try:
            self._write_failed_row(result)
        except OSError as exc:
            self._fail(exc)

    def _write_failed_row(self, result: ItemResult) -> None:
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
        """Flush, fsync and close the log and the failed-rows file; a second call does nothing.

        Raises the :class:`OSError` that kept records from the disk (a full disk),
        unless it was raised before: the run stopped for it then.
        """
        file = self._file
        if file is not None:
            try:
                if self._broken is None:
                    self._flush()
                    os.fsync(file.fileno())
            except OSError as exc:
                self._broken = self._broken or exc
                self._raised = False
            self._file = None
            try:
                file.close()  # flushes what is left, if it can: a failure is the same one
            except OSError as exc:
                self._broken = self._broken or exc
        failed, self._failed, self._failed_writer = self._failed, None, None
        if failed is not None:
            try:
                failed.close()
            except OSError as exc:
                self._broken = self._broken or exc
        if self._broken is not None and not self._raised:
            self._raised = True
            raise self._broken
