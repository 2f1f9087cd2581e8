"""The words of the progress display: one line of figures, outcome counts, durations.

Pure formatters of :mod:`bulkops.commands.progress`, tested without a display.
"""

from __future__ import annotations


def progress_line(  # noqa: PLR0913 - a pure formatter: one argument per figure it shows
    done: int,
    total: int | None,
    rate_per_s: float | None,
    counts: dict[str, int],
    ceiling: int | None,
    *,
    final_s: float | None = None,
    account: tuple[int | None, int | None] = (None, None),
) -> str:
    """One progress line; ``final_s`` makes it the closing line (time taken, no ETA).

    ``ceiling`` is the run's concurrency limit, ``account`` the account's requests
    in flight and its learnt limit (see :func:`limit_text`).
    """
    text = f"progress: {done:,}/{total:,} rows" if total is not None else f"progress: {done:,} rows"
    if total:
        text += f" ({min(100, 100 * done // total)}%)"
    if final_s is not None:
        text += f" in {duration_text(final_s)}"
    if rate_per_s is not None:
        text += f", {rate_per_s:,.0f}/s"
    if final_s is None and total is not None and done < total and rate_per_s:
        text += f", ETA {duration_text((total - done) / rate_per_s)}"
    outcomes = outcome_text(counts)
    if outcomes:
        text += f"; {outcomes}"
    limits = limit_text(ceiling, *account)
    if limits:
        text += f"; {limits}"
    return text


def outcome_text(counts: dict[str, int]) -> str:
    """``succeeded 1,200, failed 30``: non-zero counts, known outcomes first."""
    return ", ".join(f"{outcome} {n:,}" for outcome, n in dict(counts).items() if n)


def limit_text(ceiling: int | None, in_flight: int | None, limit: int | None) -> str:
    """``concurrency 8; account 9 in flight of 10``: the run's limit, the account's figures.

    The account's part appears once Twilio's count has: ``of N`` once a 429 has
    taught the account's limit. "" when nothing is known.
    """
    parts = [] if ceiling is None else [f"concurrency {ceiling}"]
    if in_flight is not None:
        of = f" of {limit}" if limit is not None else ""
        parts.append(f"account {in_flight} in flight{of}")
    return "; ".join(parts)


def duration_text(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
