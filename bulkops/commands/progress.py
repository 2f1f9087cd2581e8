"""Live progress of a run: a rich bar on a terminal, a line every few seconds elsewhere.

:meth:`Progress.start` picks the display; the engine calls :meth:`~Progress.advance`
once per finished row (a counter increment and, for the line printer, one clock
read), :meth:`~Progress.set_ceiling` when the concurrency limit moves,
:meth:`~Progress.set_account` when the account's figures do, and
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
from .progress_text import limit_text, outcome_text, progress_line

__all__ = ["BarProgress", "LineProgress", "Progress", "progress_line"]

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
        self.advance(result.outcome._value_)  # not .value (a property): every row

    def on_limit(self, limit: int) -> None:
        """As the engine's observer: the concurrency limit moved."""
        self.set_ceiling(limit)

    def on_account(self, in_flight: int | None, limit: int | None) -> None:
        """As the engine's observer: the account's requests in flight and its learnt limit."""
        self.set_account(in_flight, limit)

    def set_total(self, rows: int) -> None:
        """Show ``rows`` as the total."""

    def advance(self, outcome: str) -> None:
        """Count one finished row with its outcome."""

    def set_ceiling(self, limit: int) -> None:
        """Show the current concurrency limit."""

    def set_account(self, in_flight: int | None, limit: int | None) -> None:
        """Show the account's requests in flight and its limit (None: not known)."""

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
        #: The account's requests in flight and its learnt limit, as last told.
        self.account: tuple[int | None, int | None] = (None, None)
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

    def set_account(self, in_flight: int | None, limit: int | None) -> None:
        self.account = (in_flight, limit)


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
                    account=self.account,
                )
            )

    def _emit(self, now: float) -> None:
        span = now - self._last_time
        rate = (self.done - self._last_done) / span if span > 0 else None
        line = progress_line(
            self.done, self.total_rows, rate, self.counts, self.ceiling, account=self.account
        )
        self._write(line)
        self._last_time, self._last_done = now, self.done
        self._next = now + self._interval_s
        self._printed = True

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(f"{speed:,.0f}/s" if speed is not None else "–/s")


class BarProgress(_Counting):
    """A rich bar: done/total, rows per second, ETA, counts per outcome, concurrency, account."""

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
        limits = limit_text(self.ceiling, *self.account)
        ceiling = f"· {limits.replace('; ', ' · ')}" if limits else ""
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
