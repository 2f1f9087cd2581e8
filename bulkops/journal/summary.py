"""Run reports: what a result log says about a run, as a table or as JSON.

A result log resumed across several runs holds more records than rows: a row
that failed and then succeeded has two records. The outcome table counts each
**row** once, by its latest record (the last one in the file wins per content
key, as ``--resume`` keys rows); calls, 429s and the attempts distribution sum
over **all records**, since every one of those calls was really made.

Percentiles are :func:`statistics.quantiles` with ``method="inclusive"``, ``n=100``:
linear interpolation between the closest ranks (numpy's default), so p50 is the
median. Latencies are each row's ``elapsed_ms`` (first try to final answer,
retries and their waits included) over records that reached the network.

Memory stays bounded-ish for a million records: one 64-bit key digest per row
and one float per record (``array('d')``, 8 MB per million).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..errors import JobFileError
from ..keys import DigestMap, key_digest
from ..model import Detail, Outcome
from .writer import record_key

#: Outcomes whose rows never reach the network: no latency.
_UNSENT = frozenset({Outcome.INVALID.value, Outcome.SKIPPED.value})
_OUTCOME_ORDER = {o.value: i for i, o in enumerate(Outcome)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_decode = json.JSONDecoder().decode


@dataclass(frozen=True, slots=True)
class Latency:
    """Row latency percentiles in milliseconds; None when no row reached the network."""

    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True, slots=True)
class RunReport:
    """The figures of one result log."""

    #: Lines read (one per row result written, over every run of the log).
    records: int
    #: Distinct rows: records after the latest per row key.
    rows: int
    #: Rows by latest outcome; every :class:`Outcome` present, in enum order.
    outcomes: Mapping[str, int]
    #: Rows by (outcome, detail), outcome order then most rows first.
    details: Mapping[tuple[str, str], int]
    #: Records by attempts made, ascending attempts.
    attempts: Mapping[int, int]
    #: Calls made: the sum of ``attempts`` over all records.
    calls: int
    #: 429 answers met: the sum of ``throttled`` over all records.
    throttled: int
    latency: Latency
    #: Seconds the run took; None when the records carry no timestamps.
    duration_s: float | None
    #: ``"run"`` when the run measured the duration, ``"records"`` when it was derived.
    duration_from: str
    #: Earliest row start and latest row end (UTC ISO 8601), from the records.
    started_at: str | None
    finished_at: str | None
    #: Torn last lines skipped (0 or 1): a run killed in mid-write.
    torn_lines: int = 0

    @property
    def calls_per_s(self) -> float | None:
        """Achieved call rate over the duration."""
        return self.calls / self.duration_s if self.duration_s else None

    @property
    def rows_per_s(self) -> float | None:
        """Row results written per second over the duration (records; rows unless resumed)."""
        return self.records / self.duration_s if self.duration_s else None


class ResultsReader:
    """Streams the records of a JSON Lines result log; see :func:`read_results`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: Line number of a torn last line that was skipped, once the reader is exhausted.
        self.torn_line: int | None = None
        name = str(path)
        try:
            if self.path.is_dir():
                raise JobFileError(name, "is a directory, not a result log")
            self.path.stat()
        except FileNotFoundError:
            raise JobFileError(name, "no such file") from None
        except OSError as exc:
            raise JobFileError(name, f"cannot read: {exc.strerror or exc}") from None
        self._records = self._read()

    def __iter__(self) -> ResultsReader:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._records)

    def _read(self) -> Iterator[dict[str, Any]]:
        name = str(self.path)
        bad: tuple[int, str] | None = None
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                if bad is not None:  # an unreadable line with more after it
                    raise JobFileError(name, bad[1], line=bad[0])
                try:
                    record = _decode(raw.decode())
                except json.JSONDecodeError as exc:
                    bad = (number, f"not a result record: invalid JSON ({exc.msg})")
                    continue
                except UnicodeDecodeError:
                    bad = (number, "not a result record: not UTF-8 text")
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("outcome"), str):
                    raise JobFileError(
                        name, "not a result record (a JSON object with an 'outcome')", line=number
                    )
                yield record
        if bad is not None:
            self.torn_line = bad[0]


def read_results(path: str | Path) -> ResultsReader:
    """Stream the records of a result log, skipping a torn last line.

    Raises :class:`JobFileError` at once for a missing file, and while iterating
    for a line that is not a result record with more lines after it. A last line
    that is not valid JSON (a run killed mid-write) is skipped and its number kept
    in :attr:`ResultsReader.torn_line`.
    """
    return ResultsReader(path)


def percentiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    """p50, p95 and p99 of ``values`` (inclusive method); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return (values[0],) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def summarize(records: Iterable[dict[str, Any]], *, duration_s: float | None = None) -> RunReport:
    """Compute the report of ``records``; ``duration_s`` is the run's own measure when known."""
    pair_index: dict[tuple[str, str], int] = {}
    latest = DigestMap()  # row key digest -> index into pair_index; 10 bytes a row
    attempts: Counter[int] = Counter()
    latencies = array("d")
    calls = throttled = count = 0
    first_start, last_end = math.inf, -math.inf
    for record in records:
        count += 1
        outcome = str(record.get("outcome") or "")
        detail = str(record.get("detail") or "")
        index = pair_index.setdefault((outcome, detail), len(pair_index))
        latest[_row_digest(record, outcome)] = index
        tries = _int(record.get("attempts"))
        attempts[tries] += 1
        calls += tries
        throttled += _int(record.get("throttled"))
        elapsed_ms = _float(record.get("elapsed_ms"))
        if outcome not in _UNSENT:
            latencies.append(elapsed_ms)
        end = _epoch_s(record.get("finished_at"))
        if end is not None:
            first_start = min(first_start, end - elapsed_ms / 1000)
            last_end = max(last_end, end)
    pairs = list(pair_index)
    by_pair = Counter(pairs[i] for i in latest.values())
    outcomes = {o.value: 0 for o in Outcome}
    for (outcome, _), n in by_pair.items():
        outcomes[outcome] = outcomes.get(outcome, 0) + n
    details = sorted(by_pair.items(), key=lambda i: (_OUTCOME_ORDER.get(i[0][0], 99), -i[1], i[0]))
    cuts = percentiles(latencies)
    has_times = last_end > -math.inf
    measured = duration_s is not None
    if duration_s is None and has_times:
        duration_s = max(0.0, last_end - first_start)
    reader_torn = records.torn_line if isinstance(records, ResultsReader) else None
    return RunReport(
        records=count,
        rows=len(latest),
        outcomes=MappingProxyType(outcomes),
        details=MappingProxyType(dict(details)),
        attempts=MappingProxyType(dict(sorted(attempts.items()))),
        calls=calls,
        throttled=throttled,
        latency=Latency(len(latencies), *(cuts or (None, None, None))),
        duration_s=duration_s,
        duration_from="run" if measured else "records",
        started_at=_iso(first_start) if has_times else None,
        finished_at=_iso(last_end) if has_times else None,
        torn_lines=0 if reader_torn is None else 1,
    )


def _row_digest(record: dict[str, Any], outcome: str) -> int:
    """The row a record stands for: its content key, as ``--resume`` uses it.

    A skipped row (a duplicate) shares its key with the row it repeats, so it
    stands for its own job line instead.
    """
    if outcome == Outcome.SKIPPED.value:
        return key_digest((Detail.DUPLICATE.value, str(record.get("line"))))
    return key_digest(record_key(record))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _epoch_s(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH).total_seconds()


def _iso(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(report: RunReport) -> dict[str, Any]:
    """The report as a JSON object with stable keys (``<results>.summary.json``)."""
    nested: dict[str, dict[str, int]] = {o: {} for o in report.outcomes}
    for (outcome, detail), n in report.details.items():
        nested.setdefault(outcome, {})[detail] = n
    return {
        "records": report.records,
        "rows": report.rows,
        "outcomes": dict(report.outcomes),
        "details": nested,
        "attempts": {str(k): v for k, v in report.attempts.items()},
        "calls": report.calls,
        "throttled": report.throttled,
        "latency_ms": {
            "count": report.latency.count,
            "p50": report.latency.p50_ms,
            "p95": report.latency.p95_ms,
            "p99": report.latency.p99_ms,
        },
        "duration_s": report.duration_s,
        "duration_from": report.duration_from,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "calls_per_s": report.calls_per_s,
        "rows_per_s": report.rows_per_s,
        "torn_lines": report.torn_lines,
    }


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


def render_text(report: RunReport, *, width: int = 100) -> str:
    """The report's tables as plain text."""
    buffer = StringIO()
    print_text(report, Console(file=buffer, width=width, force_terminal=False, highlight=False))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


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


def summary_path(results_path: str | Path) -> Path:
    """``<results>.summary.json``: ``out.jsonl`` → ``out.summary.json``."""
    path = Path(results_path)
    return path.with_name(path.stem + ".summary.json")


def write_summary_json(report: RunReport, results_path: str | Path) -> Path:
    """Write the report as JSON next to the result log, atomically; returns its path."""
    target = summary_path(results_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(to_json(report), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``bulkops report``."""
    parser.add_argument("results", metavar="RESULTS", help="result log (JSON Lines) of a run")
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default text)"
    )
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """``bulkops report``: print the report of a result log; raises JobFileError for a bad one."""
    reader = read_results(args.results)
    report = summarize(reader)
    if reader.torn_line is not None:
        print(
            f"bulkops: warning: {args.results}:{reader.torn_line}: "
            "skipped a torn last line (a run killed mid-write)",
            file=sys.stderr,
        )
    if args.format == "json":
        json.dump(to_json(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report))
    return 0
