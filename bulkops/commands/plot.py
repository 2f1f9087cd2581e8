"""``bulkops report RESULTS --plot run.png``: rows per second, 429s and the limit over a run.

:func:`run_series` turns what a run left behind into per-second series: the
summary JSON's ``concurrency`` trace (see :mod:`bulkops.engine.trace`) when it
has one, which gives rows and 429s as they happened and the limit; else the
result records alone (rows by ``finished_at``, a record's 429s at its finish,
no limit). :func:`draw` renders them with matplotlib, imported only here and
only when asked for: it is the optional ``plot`` extra (``pip install
'bulkops[plot]'``); without it :func:`draw` raises :class:`UsageError` saying so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError


@dataclass(frozen=True, slots=True)
class RunSeries:
    """What the plot shows, one rate per second of the run (index = second since start).

    The last second may be partial: its rates are per second of the part the run had.
    """

    rows_per_s: Sequence[float]
    throttled_per_s: Sequence[float]
    #: Seconds from the run's start to its last figure.
    duration_s: float = 0.0
    #: ``(t_s, limit, account_limit, account_in_flight)`` steps; empty without a trace.
    limits: Sequence[tuple[float, int, int | None, int | None]] = field(default=())
    #: Where the figures come from: ``"trace"`` or ``"records"``.
    source: str = "records"


def run_series(
    records: Iterable[Mapping[str, Any]], summary: Mapping[str, Any] | None
) -> RunSeries:
    """The series of a run: from ``summary["concurrency"]`` if present, else ``records``."""
    trace = (summary or {}).get("concurrency")
    if isinstance(trace, Mapping) and trace.get("points"):
        return _from_trace(trace["columns"], trace["points"])
    return _from_records(records)


def _from_trace(columns: Sequence[str], points: Sequence[Sequence[Any]]) -> RunSeries:
    rows = [dict(zip(columns, point, strict=True)) for point in points]
    seconds = max(1, math.ceil(rows[-1]["t_s"]))
    done, throttled = [0.0] * seconds, [0.0] * seconds
    start = {"t_s": 0.0, "rows": 0, "throttled": 0}  # the run's start, before the first point
    for before, after in itertools.pairwise([start, *rows]):
        _spread(done, before["t_s"], after["t_s"], after["rows"] - before["rows"])
        _spread(throttled, before["t_s"], after["t_s"], after["throttled"] - before["throttled"])
    limits = [(p["t_s"], p["limit"], p["account_limit"], p["account_in_flight"]) for p in rows]
    duration_s = rows[-1]["t_s"]
    return RunSeries(*_per_s(done, throttled, duration_s), duration_s, limits, source="trace")


def _per_s(
    done: list[float], throttled: list[float], duration_s: float
) -> tuple[list[float], list[float]]:
    """Counts per whole second as rates, the last (partial) second by its own length."""
    width = duration_s - (len(done) - 1)
    if 0 < width < 1:
        done[-1] /= width
        throttled[-1] /= width
    return done, throttled


def _spread(buckets: list[float], start_s: float, end_s: float, amount: float) -> None:
    """Add ``amount``, spread evenly over ``[start_s, end_s)``, to per-second ``buckets``."""
    if amount <= 0:
        return
    if end_s <= start_s:
        buckets[min(int(start_s), len(buckets) - 1)] += amount
        return
    rate = amount / (end_s - start_s)
    second = int(start_s)
    while second < end_s and second < len(buckets):
        overlap = min(end_s, second + 1) - max(start_s, second)
        buckets[second] += rate * overlap
        second += 1


def _from_records(records: Iterable[Mapping[str, Any]]) -> RunSeries:
    finished: list[tuple[float, int]] = []
    for record in records:
        try:
            moment = datetime.fromisoformat(str(record.get("finished_at") or ""))
        except ValueError:
            continue
        throttled = record.get("throttled")
        finished.append((moment.timestamp(), throttled if isinstance(throttled, int) else 0))
    if not finished:
        return RunSeries([], [])
    start = min(t for t, _ in finished)
    duration_s = max(t for t, _ in finished) - start
    seconds = int(duration_s) + 1
    done, throttled_per_s = [0.0] * seconds, [0.0] * seconds
    for t, throttled in finished:
        done[int(t - start)] += 1
        throttled_per_s[int(t - start)] += throttled
    return RunSeries(*_per_s(done, throttled_per_s, duration_s), duration_s)


def draw(series: RunSeries, path: Path, *, title: str) -> Path:
    """Render ``series`` as a PNG at ``path``: three panels over the run's seconds.

    Raises :class:`UsageError` when matplotlib (the ``plot`` extra) is missing,
    and :class:`OSError` when the file cannot be written.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # render to a file; never open a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib, the optional 'plot' extra: pip install 'bulkops[plot]'"
        ) from None
    fig, (rows_ax, throttled_ax, limit_ax) = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    seconds = len(series.rows_per_s)
    edges = [*range(seconds), max(series.duration_s, seconds - 1 + 1e-3)] if seconds else [0]
    rows_ax.stairs(series.rows_per_s, edges, fill=True, color="C0")
    rows_ax.set_ylabel("rows per second")
    rows_ax.set_title(title)
    throttled_ax.stairs(series.throttled_per_s, edges, fill=True, color="C3")
    throttled_ax.set_ylabel("429s per second")
    if series.limits:
        times = [t for t, *_ in series.limits]
        limit_ax.step(times, [p[1] for p in series.limits], where="post", label="this run's limit")
        if any(p[2] is not None for p in series.limits):
            learnt = [math.nan if p[2] is None else p[2] for p in series.limits]
            limit_ax.step(times, learnt, where="post", linestyle="--", label="account's limit")
        if any(p[3] is not None for p in series.limits):
            counted = [math.nan if p[3] is None else p[3] for p in series.limits]
            limit_ax.step(times, counted, where="post", alpha=0.5, label="account in flight")
        limit_ax.legend(fontsize=8, loc="lower right")
    else:
        limit_ax.text(0.5, 0.5, "no trace of the limit (no summary JSON with one)",
                      ha="center", va="center", transform=limit_ax.transAxes)  # fmt: skip
    limit_ax.set_ylabel("requests in flight")
    limit_ax.set_xlabel(f"second since the run started (from its {series.source})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
