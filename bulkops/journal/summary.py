"""Run summaries: the figures a result log holds about a run, as data and as JSON.

Shown as tables by :mod:`bulkops.commands.report`; summed up in one line by
:func:`summary_line` at the end of a run.

A result log resumed across several runs holds more records than rows: a row
that failed and then succeeded has two records. The outcome table counts each
**row** once, by its latest record (the last one in the file wins per content
key, as ``--resume`` keys rows); calls, 429s and the attempts distribution sum
over **all records**, since every one of those calls was really made.

Percentiles are :func:`statistics.quantiles` with ``method="inclusive"``, ``n=100``:
linear interpolation between the closest ranks (numpy's default), so p50 is the
median. Latencies are each row's ``elapsed_ms`` (first try to final answer,
retries and their waits included) over records that reached the network.

The figures are gathered record by record in a :class:`~.tally.Tally`: from
the log here (:func:`summarize`), or from a fresh run's journal as it writes.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..files import atomic_write
from ..model import Detail, Outcome, SenderKind
from .reader import ResultsReader
from .tally import Tally

_OUTCOME_ORDER = {o.value: i for i, o in enumerate(Outcome)}
_KIND_ORDER = {k.value: i for i, k in enumerate(SenderKind)}


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
    #: Rows by sender kind, then by latest outcome (every outcome present); kinds
    #: with rows only, in :class:`~bulkops.model.SenderKind` order.
    kinds: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def calls_per_s(self) -> float | None:
        """Achieved call rate over the duration."""
        return self.calls / self.duration_s if self.duration_s else None

    @property
    def rows_per_s(self) -> float | None:
        """Row results written per second over the duration (records; rows unless resumed)."""
        return self.records / self.duration_s if self.duration_s else None


def percentiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    """p50, p95 and p99 of ``values`` (inclusive method); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return (values[0],) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def summarize(records: Iterable[dict[str, Any]], *, duration_s: float | None = None) -> RunReport:
    """The report of ``records`` (result records in file order, e.g. :func:`.reader.read_results`).

    ``duration_s`` is the run's own measure, in seconds, when known; otherwise
    the duration is derived from the records' timestamps. Given a
    :class:`ResultsReader`, the report counts the torn line it skipped, and any
    :class:`~bulkops.errors.JobFileError` it raises propagates.
    """
    tally = Tally()
    for record in records:
        tally.add_record(record)
    reader_torn = records.torn_line if isinstance(records, ResultsReader) else None
    return report_of(tally, duration_s=duration_s, torn_lines=0 if reader_torn is None else 1)


def report_of(tally: Tally, *, duration_s: float | None = None, torn_lines: int = 0) -> RunReport:
    """The report of what ``tally`` has counted (see :func:`summarize` for ``duration_s``)."""
    triples = list(tally.pairs)  # (outcome, detail, kind)
    by_triple = Counter(triples[i] for i in tally.latest.values())
    by_pair: Counter[tuple[str, str]] = Counter()
    outcomes = {o.value: 0 for o in Outcome}
    kinds: dict[str, dict[str, int]] = {}
    for (outcome, detail, kind), n in by_triple.items():
        by_pair[outcome, detail] += n
        outcomes[outcome] = outcomes.get(outcome, 0) + n
        per_kind = kinds.setdefault(kind, {o.value: 0 for o in Outcome})
        per_kind[outcome] = per_kind.get(outcome, 0) + n
    details = sorted(by_pair.items(), key=lambda i: (_OUTCOME_ORDER.get(i[0][0], 99), -i[1], i[0]))
    cuts = percentiles(tally.latencies)
    has_times = tally.last_end > -math.inf
    measured = duration_s is not None
    if duration_s is None and has_times:
        duration_s = max(0.0, tally.last_end - tally.first_start)
    return RunReport(
        records=tally.records,
        rows=len(tally.latest),
        outcomes=MappingProxyType(outcomes),
        details=MappingProxyType(dict(details)),
        attempts=MappingProxyType(dict(sorted(tally.attempts.items()))),
        calls=tally.calls,
        throttled=tally.throttled,
        latency=Latency(len(tally.latencies), *(cuts or (None, None, None))),
        duration_s=duration_s,
        duration_from="run" if measured else "records",
        started_at=_iso(tally.first_start) if has_times else None,
        finished_at=_iso(tally.last_end) if has_times else None,
        torn_lines=torn_lines,
        kinds=MappingProxyType(
            dict(sorted(kinds.items(), key=lambda i: _KIND_ORDER.get(i[0], 99)))
        ),
    )


def _iso(epoch_s: float) -> str | None:
    """UTC ISO 8601 of ``epoch_s``; None when no date has it (a record's absurd elapsed_ms)."""
    try:
        moment = datetime.fromtimestamp(epoch_s, UTC)
    except (OverflowError, OSError, ValueError):
        return None
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
        "kinds": {kind: dict(counts) for kind, counts in report.kinds.items()},
    }


def summary_path(results_path: str | Path) -> Path:
    """``<results>.summary.json``: ``out.jsonl`` → ``out.summary.json``."""
    path = Path(results_path)
    return path.with_name(path.stem + ".summary.json")


def write_summary_json(
    report: RunReport, results_path: str | Path, *, concurrency: Mapping[str, Any] | None = None
) -> Path:
    """Write :func:`to_json` of ``report`` beside the result log, atomically; returns its path.

    The path is :func:`summary_path` of ``results_path``; missing directories are
    created. ``concurrency`` (the run's limit over time, ``{"columns", "points"}``
    as :class:`bulkops.engine.trace.LimitTrace` gives it) is kept under that key.
    Raises :class:`OSError` when it cannot be written (no file is left).
    """
    target = summary_path(results_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = to_json(report)
    if concurrency is not None:
        doc["concurrency"] = dict(concurrency)
    with atomic_write(target) as handle:
        json.dump(doc, handle, indent=2)
        handle.write("\n")
    return target


def summary_line(
    counts: Counter[tuple[Outcome, Detail]], *, duration_s: float, path: Path | None
) -> str:
    """One line a person can read: rows per outcome and detail, duration, rate, results path.

    ``counts`` is :attr:`.writer.ResultJournal.counts`; ``duration_s`` is the run's, in
    seconds; outcomes with no rows are left out.
    """
    total = sum(counts.values())
    parts: list[str] = []
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
