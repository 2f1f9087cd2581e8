"""Live progress of a run: a rich bar on a terminal, a line every few seconds elsewhere.

:meth:`Progress.start` picks the display; the engine calls :meth:`~Progress.advance`
once per finished row (a counter increment and, for the line printer, one clock
read), :meth:`~Progress.set_ceiling` when the concurrency limit moves, and
:meth:`~Progress.close` at the end.

The bar is redrawn by a thread of its own a few times a second, which reads the
counters; rich's auto-refresh thread is not used because ``Live.stop()`` does
not join it, while :meth:`BarProgress.close` joins ours.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO, cast

from rich.console import Console
from rich.file_proxy import FileProxy
from rich.progress import BarColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from ..config import check_non_negative, check_positive
from ..model import ItemResult, Outcome

Clock = Callable[[], float]


class Progress:
    """A run's progress display. This base shows nothing (``--quiet``)."""

    @staticmethod
    def start(  # noqa: PLR0913 - keyword-only display settings, each independent
        total_rows: int | None,
        *,
        stream: TextIO | None = None,
        quiet: bool,
        interval_s: float = 5.0,
        clock: Clock = time.monotonic,
        console: Console | None = None,
    ) -> Progress:
        """The display that fits: nothing when ``quiet``; a bar on ``console`` or on a
        terminal ``stream`` (default: ``sys.stderr`` at call time); else a plain line
        at most every ``interval_s`` seconds of ``clock``.
        """
        if total_rows is not None:
            check_non_negative("total_rows", total_rows)
        check_positive("interval_s", interval_s)
        if quiet:
            return Progress()
        out = sys.stderr if stream is None else stream
        if console is None and out.isatty():
            console = Console(file=out)
        if console is not None:
            return BarProgress(total_rows, console=console, clock=clock)
        return LineProgress(total_rows, stream=out, interval_s=interval_s, clock=clock)

    def on_start(self, rows: int) -> None:
        """As the engine's observer: the run has ``rows`` rows to do."""
        self.set_total(rows)

    def on_result(self, result: ItemResult) -> None:
        """As the engine's observer: one row is final."""
        self.advance(result.outcome.value)

    def on_limit(self, limit: int) -> None:
        """As the engine's observer: the concurrency limit moved."""
        self.set_ceiling(limit)

    def set_total(self, rows: int) -> None:
        """Show ``rows`` as the total."""

    def advance(self, outcome: str) -> None:
        """Count one finished row with its outcome."""

    def set_ceiling(self, limit: int) -> None:
        """Show the current concurrency limit."""

    def close(self) -> None:
        """Stop the display; safe to call twice."""

    def log_stream(self, default: TextIO) -> TextIO:
        """Where log lines should go so they do not tear the display: ``default`` unless a bar."""
        return default

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Counting(Progress):
    def __init__(self, total_rows: int | None, *, clock: Clock) -> None:
        self.total_rows = total_rows
        self.done = 0
        #: Rows by outcome; known outcomes are present from the start.
        self.counts: dict[str, int] = {o.value: 0 for o in Outcome}
        self.ceiling: int | None = None
        self._clock = clock
        self._started = clock()

    def set_total(self, rows: int) -> None:
        self.total_rows = rows

    def advance(self, outcome: str) -> None:
        self.done += 1
        counts = self.counts
        counts[outcome] = counts.get(outcome, 0) + 1

    def set_ceiling(self, limit: int) -> None:
        self.ceiling = limit


class LineProgress(_Counting):
    """Prints a line such as ``progress: 1,234/10,000 rows (12%), 245/s, ETA 36 s; …``.

    At most once every ``interval_s``, when a row finishes or the ceiling moves;
    the rate is over the time since the previous line. A final line on close if
    any line was printed (a short run leaves the summary line alone).
    """

    def __init__(
        self, total_rows: int | None, *, stream: TextIO, interval_s: float, clock: Clock
    ) -> None:
        super().__init__(total_rows, clock=clock)
        self._stream = stream
        self._interval_s = interval_s
        self._next = self._started + interval_s
        self._last_time = self._started
        self._last_done = 0
        self._printed = False
        self._closed = False

    def advance(self, outcome: str) -> None:
        super().advance(outcome)
        now = self._clock()
        if now >= self._next:
            self._emit(now)

    def set_ceiling(self, limit: int) -> None:
        self.ceiling = limit
        now = self._clock()
        if not self._closed and now >= self._next:
            self._emit(now)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._printed:
            now = self._clock()
            rate = self.done / (now - self._started) if now > self._started else None
            self._write(
                progress_line(
                    self.done,
                    self.total_rows,
                    rate,
                    self.counts,
                    self.ceiling,
                    final_s=now - self._started,
                )
            )

    def _emit(self, now: float) -> None:
        span = now - self._last_time
        rate = (self.done - self._last_done) / span if span > 0 else None
        self._write(progress_line(self.done, self.total_rows, rate, self.counts, self.ceiling))
        self._last_time, self._last_done = now, self.done
        self._next = now + self._interval_s
        self._printed = True

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()


def progress_line(  # noqa: PLR0913 - a pure formatter: one argument per figure it shows
    done: int,
    total: int | None,
    rate_per_s: float | None,
    counts: dict[str, int],
    ceiling: int | None,
    *,
    final_s: float | None = None,
) -> str:
    """One progress line; ``final_s`` makes it the closing line (time taken, no ETA)."""
    text = f"progress: {done:,}/{total:,} rows" if total is not None else f"progress: {done:,} rows"
    if total:
        text += f" ({min(100, 100 * done // total)}%)"
    if final_s is not None:
        text += f" in {_duration(final_s)}"
    if rate_per_s is not None:
        text += f", {rate_per_s:,.0f}/s"
    if final_s is None and total is not None and done < total and rate_per_s:
        text += f", ETA {_duration((total - done) / rate_per_s)}"
    outcomes = outcome_text(counts)
    if outcomes:
        text += f"; {outcomes}"
    if ceiling is not None:
        text += f"; concurrency {ceiling}"
    return text


def outcome_text(counts: dict[str, int]) -> str:
    """``succeeded 1,200, failed 30``: non-zero counts, known outcomes first."""
    return ", ".join(f"{outcome} {n:,}" for outcome, n in dict(counts).items() if n)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(f"{speed:,.0f}/s" if speed is not None else "–/s")


class BarProgress(_Counting):
    """A rich bar: done/total, rows per second, ETA, counts per outcome, concurrency."""

    def __init__(
        self,
        total_rows: int | None,
        *,
        console: Console,
        clock: Clock,
        refresh_per_second: float = 4.0,
    ) -> None:
        super().__init__(total_rows, clock=clock)
        self._bar = RichProgress(
            BarColumn(),
            TextColumn("{task.fields[done]}"),
            _RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[outcomes]}"),
            TextColumn("{task.fields[ceiling]}"),
            console=console,
            auto_refresh=False,
            get_time=clock,
        )
        self._task = self._bar.add_task(
            "rows", total=total_rows, done=self._done_text(), outcomes="", ceiling=""
        )
        self._period_s = 1 / refresh_per_second
        self._stop = threading.Event()
        self._closed = False
        self._bar.start()
        self._thread = threading.Thread(target=self._refresh, name="bulkops-progress", daemon=True)
        self._thread.start()

    def set_total(self, rows: int) -> None:
        super().set_total(rows)
        self._bar.update(self._task, total=rows)

    def _done_text(self) -> str:
        total = self.total_rows
        return f"{self.done:,}/{total:,} rows" if total is not None else f"{self.done:,} rows"

    def refresh(self) -> None:
        """Hand the counters to the bar and redraw it (the refresh thread's tick)."""
        ceiling = f"· concurrency {self.ceiling}" if self.ceiling is not None else ""
        outcomes = outcome_text(self.counts)
        self._bar.update(
            self._task,
            completed=self.done,
            done=self._done_text(),
            outcomes=f"· {outcomes}" if outcomes else "",
            ceiling=ceiling,
        )
        self._bar.refresh()

    def log_stream(self, default: TextIO) -> TextIO:
        """A stream whose lines rich prints above the bar."""
        return cast(TextIO, FileProxy(self._bar.console, default))

    def _refresh(self) -> None:
        while not self._stop.wait(self._period_s):
            self.refresh()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._thread.join()
        self.refresh()
        self._bar.stop()
