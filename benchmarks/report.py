"""Goals, Markdown tables and the JSON results file."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def goal(name: str, measured: float | None, op: str, limit: float) -> dict[str, Any]:
    """One goal: ``measured op limit`` with op ``>=`` or ``<=``; a missing value misses."""
    if op not in (">=", "<="):
        raise ValueError(f"op must be '>=' or '<=', got {op!r}")
    met = measured is not None and (measured >= limit if op == ">=" else measured <= limit)
    shown = None if measured is None else round(measured, 3)
    return {"goal": name, "measured": shown, "op": op, "limit": limit, "met": met}


def reported(name: str, measured: float | None) -> dict[str, Any]:
    """A figure shown among the goals but not judged: no target, ``met`` None (neither)."""
    shown = None if measured is None else round(measured, 3)
    return {"goal": name, "measured": shown, "op": None, "limit": None, "met": None}


def median(values: Iterable[float]) -> float:
    found = list(values)
    return statistics.median(found) if found else 0.0


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table cell: thousands separators, ``–`` when missing."""
    if value is None:
        return "–"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def goals_table(goals: Sequence[dict[str, Any]]) -> str:
    """The goals as a table; a reported figure (``met`` None) has no target and no verdict."""
    rows = []
    for g in goals:
        measured = g["measured"]
        if g["met"] is None:
            target, verdict = "(reported)", "–"
        else:
            target, verdict = f"{g['op']} {g['limit']:g}", _verdict(g)
        rows.append([g["goal"], target, fmt(measured, 3), verdict])
    return table(["goal", "target", "measured", "verdict"], rows)


def _verdict(g: dict[str, Any]) -> str:
    if g["met"]:
        return "met"
    if g["measured"] is None:
        return "**missed** (no value)"
    return f"**missed** by {abs(g['measured'] - g['limit']):.3g}"


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` atomically (a ``.tmp`` file, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
