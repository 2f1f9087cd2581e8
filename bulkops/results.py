"""The result log: one JSON line per job row, the run's journal.

Each record is written and flushed the moment its row is final, and fsynced at
least every second and on close, so a crash loses at most what the OS had not
yet written in the last second and never a torn record in the middle.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .model import Detail, ItemResult, Outcome

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def default_results_path(job: str | Path, *, now: time.struct_time | None = None) -> Path:
    """``results/<job name>-<UTC timestamp>.jsonl``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", now or time.gmtime())
    return Path("results") / f"{Path(job).stem}-{stamp}.jsonl"


class ResultJournal:
    """Appends result records to a JSON Lines file and counts outcomes."""

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
        self._fsync_interval_s = fsync_interval_s
        self._monotonic = monotonic
        self._file: IO[str] | None = None
        self._last_sync = 0.0

    def __enter__(self) -> ResultJournal:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")
        self._last_sync = self._monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(self, result: ItemResult) -> None:
        """Write one final result, flushed at once."""
        assert self._file is not None, "journal is not open"
        self._file.write(_dumps(result.to_record()) + "\n")
        self._file.flush()
        self.counts[result.outcome, result.detail] += 1
        now = self._monotonic()
        if now - self._last_sync >= self._fsync_interval_s:
            os.fsync(self._file.fileno())
            self._last_sync = now

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


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
    line = f"{total:,} rows in {duration_s:.1f} s ({rate:,.0f}/s): " + (
        "; ".join(parts) or "nothing to do"
    )
    if path is not None:
        line += f". Results: {path}"
    return line
