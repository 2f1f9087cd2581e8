"""The result log: one JSON line per job row, the run's journal.

Each record is written and flushed the moment its row is final, and fsynced at
least every second and on close. A torn last line (a process killed mid-write)
is cut off before anything is appended, so every line stays valid JSON. With
``--resume`` the journal tells which rows are already done, by content key.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ..errors import JobFileError, UsageError
from ..keys import DigestSet, key_digest
from ..model import Detail, ItemResult, Outcome

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: Outcomes after which a resume does not run the row again.
DONE = frozenset({Outcome.SUCCEEDED.value, Outcome.INVALID.value})
FAILED_COLUMNS = ("service_sid", "short_code_sid", "op", "from_service_sid")


def record_key(record: dict[str, object], sid_column: str = "short_code_sid") -> tuple[str, ...]:
    """The content key of a result record, as :attr:`Row.key` builds it."""
    return (
        str(record.get("op") or ""),
        str(record.get("service_sid") or ""),
        str(record.get(sid_column) or ""),
        str(record.get("from_service_sid") or ""),
    )


def default_results_path(job: str | Path, *, now: time.struct_time | None = None) -> Path:
    """``results/<job name>-<UTC timestamp>.jsonl``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", now or time.gmtime())
    return Path("results") / f"{Path(job).stem}-{stamp}.jsonl"


def failed_path(results: Path) -> Path:
    """``<results>.failed.csv``: the rows that failed, as a job file."""
    return results.with_name(results.stem + ".failed.csv")


def repair_torn_tail(path: Path) -> int:
    """Cut a last line that has no newline (left by a kill mid-write); returns bytes cut."""
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            keep = size
            while keep > 0:
                step = min(65536, keep)
                handle.seek(keep - step)
                block = handle.read(step)
                cut = block.rfind(b"\n")
                if cut >= 0:
                    keep = keep - step + cut + 1
                    break
                keep -= step
            handle.truncate(keep)
            return size - keep
    except FileNotFoundError:
        return 0


def read_done_keys(path: Path) -> DigestSet:
    """Digests of the keys of every row the journal at ``path`` records as done."""
    done = DigestSet()
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115
    except FileNotFoundError:
        return done
    except OSError as exc:
        raise UsageError(f"{path}: cannot read results: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n"):
                break  # a torn last line, even one that parses: cut before appending
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                raise JobFileError(str(path), "not a result record", line=number)
            if record.get("outcome") in DONE:
                done.add(key_digest(record_key(record)))
    return done


class ResultJournal:
    """Appends result records to a JSON Lines file; rows that failed also go to a job file."""

    def __init__(
        self,
        path: str | Path,
        *,
        fsync_interval_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
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

    def __enter__(self) -> ResultJournal:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.repaired_bytes = repair_torn_tail(self.path)
            self._file = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot write results: {exc.strerror or exc}") from None
        self._last_sync = self._monotonic()
        failed_path(self.path).unlink(missing_ok=True)  # this run writes its own
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(self, result: ItemResult) -> None:
        """Write one final result, flushed at once."""
        assert self._file is not None, "journal is not open"
        record = result.to_record()
        self._file.write(_dumps(record) + "\n")
        self._file.flush()
        self.counts[result.outcome, result.detail] += 1
        if result.outcome is Outcome.FAILED:
            self._write_failed(result)
        self.sync_if_due()

    def sync_if_due(self) -> None:
        """fsync if the last one is ``fsync_interval_s`` old."""
        now = self._monotonic()
        if self._file is not None and now - self._last_sync >= self._fsync_interval_s:
            os.fsync(self._file.fileno())
            self._last_sync = now

    def _write_failed(self, result: ItemResult) -> None:
        if self._failed_writer is None:
            self._failed = open(failed_path(self.path), "w", encoding="utf-8", newline="")  # noqa: SIM115
            columns = [c.replace("short_code_sid", result.kind.sid_column) for c in FAILED_COLUMNS]
            self._failed_writer = csv.DictWriter(self._failed, columns, lineterminator="\n")
            self._failed_writer.writeheader()
        self._failed_writer.writerow(
            {
                "service_sid": result.service_sid,
                result.kind.sid_column: result.sender_sid,
                "op": result.op,
                "from_service_sid": result.from_service_sid or "",
            }
        )
        assert self._failed is not None
        self._failed.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
        if self._failed is not None:
            self._failed.close()
            self._failed = None
            self._failed_writer = None


def summary_line(
    counts: Counter[tuple[Outcome, Detail]], *, duration_s: float, path: Path | None
) -> str:
    """One line a person can read: rows per outcome and detail, duration, rate, results path."""
    total = sum(counts.values())
    parts = []
    for outcome in Outcome:
        details = {d: n for (o, d), n in counts.items() if o is outcome and n}
        if not details:
            continue
        inner = ", ".join(
            f"{n:,} {d.value}" for d, n in sorted(details.items(), key=lambda i: -i[1])
        )
        parts.append(f"{sum(details.values()):,} {outcome.value} ({inner})")
    rate = total / duration_s if duration_s > 0 else 0.0
    done = "; ".join(parts) or "nothing to do"
    line = f"{total:,} rows in {duration_s:.1f} s ({rate:,.0f}/s): {done}"
    if path is not None:
        line += f". Results: {path}"
    return line
