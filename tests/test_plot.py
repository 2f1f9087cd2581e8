"""``bulkops report --plot``: the per-second series of a run, and the PNG drawn from them."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pytest
from support import mg, sc

from bulkops.commands.cli import main
from bulkops.commands.plot import run_series
from bulkops.engine.trace import COLUMNS
from bulkops.journal import summary_path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def record(n: int, finished_at: str, throttled: int = 0) -> dict[str, Any]:
    return {
        "line": n + 2, "op": "attach", "service_sid": mg(1), "short_code_sid": sc(n),
        "outcome": "succeeded", "detail": "attached", "http_status": 201, "attempts": 1 + throttled,
        "elapsed_ms": 40.0, "finished_at": finished_at, "throttled": throttled,
    }  # fmt: skip


def concurrency(*points: tuple[Any, ...]) -> dict[str, Any]:
    return {"columns": list(COLUMNS), "points": [list(p) for p in points]}


def test_a_trace_gives_rows_and_429s_per_second_as_they_happened() -> None:
    """Rows and 429s between two points are spread evenly over the seconds between them."""
    trace = concurrency(
        (0.5, 0, 6, 16, None, 10),  # 6 refused at the start
        (1.0, 50, 6, 10, 10, 10),
        (3.0, 250, 6, 10, 10, 9),
    )
    series = run_series([], {"concurrency": trace})
    assert series.source == "trace"
    assert series.rows_per_s == pytest.approx([50.0, 100.0, 100.0])
    assert series.throttled_per_s == pytest.approx([6.0, 0.0, 0.0])
    assert series.limits == [(0.5, 16, None, 10), (1.0, 10, 10, 10), (3.0, 10, 10, 9)]


def test_without_a_trace_the_records_give_rows_and_429s_by_finish_time() -> None:
    """No summary JSON (a killed run): rows by finished_at, each record's 429s at its finish.

    The last second is partial (0.4 s of it): its one row is 2.5 rows per second.
    """
    records = [
        record(0, "2024-01-01T00:00:10.100Z"),
        record(1, "2024-01-01T00:00:10.900Z", throttled=2),
        record(2, "2024-01-01T00:00:12.500Z"),
    ]
    series = run_series(records, None)
    assert series.source == "records"
    assert series.rows_per_s == pytest.approx([2.0, 0.0, 2.5])
    assert series.throttled_per_s == pytest.approx([2.0, 0.0, 0.0])
    assert series.duration_s == pytest.approx(2.4)
    assert list(series.limits) == []


def write_run(tmp_path: Path, *, with_trace: bool) -> Path:
    results = tmp_path / "run.jsonl"
    stamps = [f"2024-01-01T00:00:{10 + i // 4:02d}.{i % 4 * 250:03d}Z" for i in range(20)]
    results.write_text("".join(json.dumps(record(i, t)) + "\n" for i, t in enumerate(stamps)))
    if with_trace:
        trace = concurrency((0.0, 0, 0, 16, None, 1), (2.0, 8, 1, 4, 4, 4), (5.0, 20, 1, 4, 4, 3))
        summary_path(results).write_text(json.dumps({"concurrency": trace}))
    return results


@pytest.mark.parametrize("with_trace", [True, False], ids=["trace", "records-only"])
def test_report_plot_writes_a_png_and_still_prints_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], with_trace: bool
) -> None:
    """``bulkops report RESULTS --plot run.png`` draws the run and prints the tables."""
    results = write_run(tmp_path, with_trace=with_trace)
    png = tmp_path / "plots" / "run.png"
    assert main(["report", str(results), "--plot", str(png)]) == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    out, err = capsys.readouterr()
    assert "20 records over 20 rows" in out
    assert f"written to {png}" in err


def test_report_plot_without_matplotlib_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the plot extra: exit 2 and how to install it, no traceback, no file."""
    results = write_run(tmp_path, with_trace=True)
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    png = tmp_path / "run.png"
    assert main(["report", str(results), "--plot", str(png)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'bulkops[plot]'" in err
    assert "Traceback" not in err
    assert not png.exists()
