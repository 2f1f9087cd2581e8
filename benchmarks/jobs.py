"""Job files for the benchmarks: deterministic SIDs, a CSV with a header, one attach per row.

Senders are spread over services ``PER_SERVICE`` at a time, below Twilio's (and
the sandbox's) limit of 400 senders per Messaging Service.
"""

from __future__ import annotations

from pathlib import Path

PER_SERVICE = 250
HEADER = "service_sid,short_code_sid,op\n"
_BATCH = 10_000


def write_job(path: Path, rows: int, *, op: str = "attach", first: int = 0) -> Path:
    """Write rows ``first`` to ``first + rows - 1`` of ``op`` to ``path``; returns ``path``.

    Row ``i`` is always the same service and sender, so a job of rows 0..N-1 seeds
    a sandbox for any part of it. The directory must exist.
    """
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for start in range(first, first + rows, _BATCH):
            handle.write(
                "".join(
                    f"MG{i // PER_SERVICE:032x},SC{i:032x},{op}\n"
                    for i in range(start, min(start + _BATCH, first + rows))
                )
            )
    return path
