"""``bulkops report``: a result log's summary as tables (rich) or as JSON.

The figures come from :mod:`bulkops.journal` (:func:`~bulkops.journal.summarize`
over :func:`~bulkops.journal.read_results`); this module only shows them. ``bulkops
run`` ends with the same tables (:func:`render_text`) on stderr.

``--plot PATH`` also draws rows per second, 429s and the concurrency limit over
the run as a PNG (:mod:`bulkops.commands.plot`; needs the ``plot`` extra).

Exit codes: 0 the report was printed; 2 the log is missing or is not a result
log (a :class:`~bulkops.errors.JobFileError` naming ``FILE:LINE``, which the CLI
turns into exit 2), or ``--plot`` without matplotlib. A torn last line is a
warning on stderr, not an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from io import StringIO
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..errors import Exit, UsageError
from ..journal import RunReport, read_results, summarize, summary_path, to_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``bulkops report``; sets ``handler`` to :func:`run_command`."""
    parser.add_argument("results", metavar="RESULTS", help="result log (JSON Lines) of a run")
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--plot",
        metavar="PNG",
        type=Path,
        help="also draw rows/s, 429s and the concurrency limit over the run (needs bulkops[plot])",
    )
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> Exit:
    """``bulkops report``: print the report of ``args.results`` on stdout.

    Returns :attr:`Exit.OK`; raises :class:`~bulkops.errors.JobFileError` for a
    missing or unreadable log.
    """
    reader = read_results(args.results)
    report = summarize(reader)
    if reader.torn_line is not None:
        print(
            f"bulkops: warning: {args.results}:{reader.torn_line}: "
            "skipped a torn last line (a run killed mid-write)",
            file=sys.stderr,
        )
    if args.plot is not None:
        _plot(args.results, args.plot)
    if args.format == "json":
        json.dump(to_json(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report))
    return Exit.OK


def _plot(results: str, png: Path) -> None:
    """Draw the run of ``results`` (its summary JSON's trace, else its records) to ``png``."""
    from .plot import draw, run_series  # matplotlib only when a plot is asked for

    summary: Any = None
    try:
        summary = json.loads(summary_path(results).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = None  # no summary (a run killed before it): the records alone
    series = run_series(read_results(results), summary if isinstance(summary, dict) else None)
    try:
        draw(series, png, title=f"{Path(results).name}: rows, 429s and the concurrency limit")
    except OSError as exc:
        raise UsageError(f"{png}: cannot write the plot: {exc.strerror or exc}") from None
    print(f"bulkops: plot of {results} written to {png}", file=sys.stderr)


def render_text(report: RunReport, *, width: int = 100) -> str:
    """The report's tables as plain text, at most ``width`` columns, every line newline-ended."""
    buffer = StringIO()
    print_text(report, Console(file=buffer, width=width, force_terminal=False, highlight=False))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def print_text(report: RunReport, console: Console) -> None:
    """Print the report's tables on ``console``."""
    head = f"{report.records:,} records over {report.rows:,} rows"
    if report.records != report.rows:
        head += " (a resumed log: each row counted by its latest record)"
    console.print(head)
    if report.torn_lines:
        console.print("warning: skipped a torn last line (a run killed mid-write)")

    rows = _table(("outcome", "total"), ("detail", ""), ("rows", f"{report.rows:,}"), ("share", ""))
    shown = ""
    for (outcome, detail), n in report.details.items():
        rows.add_row("" if outcome == shown else outcome, detail, f"{n:,}", _share(n, report.rows))
        shown = outcome
    console.print()
    console.print(rows)

    if report.kinds:
        outcomes = list(report.outcomes)
        by_kind = _table(("kind", ""), *((outcome, "") for outcome in outcomes), left=1)
        for kind, counts in report.kinds.items():
            by_kind.add_row(kind, *(f"{counts.get(outcome, 0):,}" for outcome in outcomes))
        console.print()
        console.print(by_kind)

    tries = _table(("attempts", ""), ("records", ""), ("share", ""), left=0)
    for attempts, n in report.attempts.items():
        tries.add_row(str(attempts), f"{n:,}", _share(n, report.records))
    console.print()
    console.print(tries)
    console.print()

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    throttled = f"{report.throttled:,} answered 429"
    if report.calls and report.throttled:
        throttled += f" ({100 * report.throttled / report.calls:.1f}%)"
    facts.add_row("calls", f"{report.calls:,}; {throttled}")
    facts.add_row("duration", _duration_text(report))
    facts.add_row("achieved rate", _rate_text(report))
    lat = report.latency
    if lat.p50_ms is not None and lat.p95_ms is not None and lat.p99_ms is not None:
        latency = (
            f"p50 {lat.p50_ms:,.0f} ms, p95 {lat.p95_ms:,.0f} ms, p99 {lat.p99_ms:,.0f} ms "
            f"({lat.count:,} records sent)"
        )
    else:
        latency = "no record reached the network"
    facts.add_row("row latency", latency)
    console.print(facts)


def _table(*columns: tuple[str, str], left: int = 2) -> Table:
    """A plain table; ``columns`` are (header, footer), the first ``left`` left-justified."""
    footer = any(foot for _, foot in columns)
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, show_footer=footer)
    for i, (name, foot) in enumerate(columns):
        table.add_column(name, footer=foot, justify="left" if i < left else "right")
    return table


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else ""


def _duration_text(report: RunReport) -> str:
    if report.duration_s is None:
        return "unknown (no timestamps)"
    text = f"{report.duration_s:,.1f} s"
    if report.duration_from == "run":
        text += " (as the run measured it)"
    elif report.started_at and report.finished_at:
        text += f" ({report.started_at} to {report.finished_at}"
        text += ", pauses between runs included)" if report.records != report.rows else ")"
    return text


def _rate_text(report: RunReport) -> str:
    if report.calls_per_s is None or report.rows_per_s is None:
        return "unknown"
    return f"{_rate(report.calls_per_s)} calls/s, {_rate(report.rows_per_s)} rows/s"


def _rate(per_s: float) -> str:
    return f"{per_s:,.1f}" if per_s >= 1 else f"{per_s:.2g}"
