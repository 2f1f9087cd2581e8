"""Live progress: a line on a fake clock, nothing when quiet, a rich bar that stops cleanly."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from rich.console import Console
from support import FakeClock

from bulkops.commands.progress import (
    BarProgress,
    LineProgress,
    Progress,
    progress_line,
)


def finish(progress: Progress, clock: FakeClock, rows: int, *, step_s: float, outcome: str) -> None:
    for _ in range(rows):
        clock.advance(step_s)
        progress.advance(outcome)


def test_line_printer_prints_on_the_interval() -> None:
    """A line at most every interval_s of the clock, with counts, rate, ETA and ceiling."""
    clock, out = FakeClock(100.0), io.StringIO()  # 1,250 steps of 0.004 from 100.0 reach 105.0
    progress = Progress.start(10_000, stream=out, quiet=False, interval_s=5.0, clock=clock)
    assert isinstance(progress, LineProgress)
    progress.set_ceiling(16)
    finish(progress, clock, 1_000, step_s=0.004, outcome="succeeded")  # 4 s: nothing yet
    assert out.getvalue() == ""
    finish(progress, clock, 250, step_s=0.004, outcome="failed")  # crosses 5 s at row 1,250
    assert out.getvalue() == (
        "progress: 1,250/10,000 rows (12%), 250/s, ETA 35 s; "
        "succeeded 1,000, failed 250; concurrency 16\n"
    )
    finish(progress, clock, 1_000, step_s=0.001, outcome="succeeded")  # 1 s more: no line
    clock.advance(4.0)
    progress.advance("invalid")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1] == (
        "progress: 2,251/10,000 rows (22%), 200/s, ETA 39 s; "
        "succeeded 2,000, failed 250, invalid 1; concurrency 16"
    )


def test_line_printer_final_line_on_close() -> None:
    """Close prints a closing line with the time taken, once, if any line was printed."""
    clock, out = FakeClock(), io.StringIO()
    progress = Progress.start(None, stream=out, quiet=False, interval_s=1.0, clock=clock)
    finish(progress, clock, 7, step_s=0.25, outcome="succeeded")
    progress.close()
    progress.close()
    assert out.getvalue().splitlines() == [
        "progress: 4 rows, 4/s; succeeded 4",
        "progress: 7 rows in 2 s, 4/s; succeeded 7",
    ]


def test_line_printer_quiet_on_a_short_run() -> None:
    """A run shorter than the interval prints nothing, not even on close."""
    clock, out = FakeClock(), io.StringIO()
    with Progress.start(3, stream=out, quiet=False, clock=clock) as progress:
        finish(progress, clock, 3, step_s=0.1, outcome="succeeded")
    assert out.getvalue() == ""


def test_quiet_prints_nothing() -> None:
    """``quiet`` gives a display that ignores every call."""
    clock, out = FakeClock(), io.StringIO()
    progress = Progress.start(10, stream=out, quiet=True, interval_s=1.0, clock=clock)
    finish(progress, clock, 10, step_s=5.0, outcome="failed")
    progress.set_ceiling(4)
    progress.close()
    assert out.getvalue() == ""
    assert type(progress) is Progress


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, 0, None, {}, None), "progress: 0/0 rows"),
        (
            (12, 10, 3.0, {"succeeded": 12}, 2),
            "progress: 12/10 rows (100%), 3/s; succeeded 12; concurrency 2",
        ),
        (
            (1, 100, 0.0, {"failed": 1, "succeeded": 0}, None),
            "progress: 1/100 rows (1%), 0/s; failed 1",
        ),
        ((50, 7_250, 2.0, {}, None), "progress: 50/7,250 rows (0%), 2/s, ETA 1 h 00 min"),
        ((50, 170, 1.0, {}, None), "progress: 50/170 rows (29%), 1/s, ETA 2 min 00 s"),
    ],
)
def test_progress_line(args: tuple[Any, ...], expected: str) -> None:
    """Percent is capped at 100; no ETA without a rate or once done; long ETAs in min or h."""
    assert progress_line(*args) == expected


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ((None, None), "progress: 3 rows; concurrency 8"),
        ((7, None), "progress: 3 rows; concurrency 8; account 7 in flight"),
        ((10, 10), "progress: 3 rows; concurrency 8; account 10 in flight of 10"),
    ],
)
def test_progress_line_shows_the_accounts_figures_once_known(
    account: tuple[int | None, int | None], expected: str
) -> None:
    """Twilio's count of the account's requests in flight, and the limit once learnt."""
    assert progress_line(3, None, None, {}, 8, account=account) == expected


def test_the_line_printer_shows_what_the_engine_tells_of_the_account() -> None:
    """on_account reaches the next line."""
    clock, out = FakeClock(), io.StringIO()
    progress = Progress.start(None, stream=out, quiet=False, interval_s=1.0, clock=clock)
    progress.on_limit(9)
    progress.on_account(9, 10)
    finish(progress, clock, 2, step_s=0.6, outcome="succeeded")
    assert (
        out.getvalue()
        == "progress: 2 rows, 2/s; succeeded 2; concurrency 9; account 9 in flight of 10\n"
    )


def test_rich_bar_renders_and_stops_cleanly() -> None:
    """The bar shows done/total, outcomes and the ceiling; close joins its refresh thread."""
    before = set(threading.enumerate())
    clock, out = FakeClock(), io.StringIO()
    console = Console(file=out, force_terminal=True, width=150)
    progress = Progress.start(10, quiet=False, console=console, clock=clock)
    assert isinstance(progress, BarProgress)
    assert set(threading.enumerate()) - before
    progress.set_ceiling(8)
    progress.set_account(6, 10)
    finish(progress, clock, 3, step_s=1.0, outcome="succeeded")
    progress.refresh()
    finish(progress, clock, 1, step_s=1.0, outcome="invalid")
    progress.close()
    progress.close()
    text = out.getvalue()
    assert "4/10 rows" in text
    assert "succeeded 3, invalid 1" in text
    assert "concurrency 8 · account 6 in flight of 10" in text
    assert "1/s" in text
    assert set(threading.enumerate()) == before


def test_a_terminal_stream_gets_the_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream that is a terminal gets the rich bar; its log stream prints above it."""
    out = io.StringIO()
    monkeypatch.setattr(out, "isatty", lambda: True)
    with Progress.start(None, stream=out, quiet=False, clock=FakeClock()) as progress:
        assert isinstance(progress, BarProgress)
        log = progress.log_stream(out)
        log.write("bulkops.item.retry line=2\n")
        progress.advance("succeeded")
    assert "bulkops.item.retry line=2" in out.getvalue()
    assert "1 rows" in out.getvalue()


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"interval_s": 0.0}, "interval_s"),
        ({"interval_s": float("nan")}, "interval_s"),
        ({"total_rows": -1}, "total_rows"),
    ],
)
def test_impossible_settings_are_refused_by_name(settings: dict[str, Any], name: str) -> None:
    """A display that could never print, or a negative total, is a ValueError naming it."""
    options: dict[str, Any] = {"total_rows": 10, "stream": io.StringIO(), "quiet": False}
    with pytest.raises(ValueError, match=f"^{name} must be"):
        Progress.start(**(options | settings))
