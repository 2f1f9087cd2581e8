"""``bulkops run --dry-run``: the calls a run would make, printed, with nothing sent.

It goes through the engine's own :class:`~bulkops.engine.Feed` (so duplicates,
invalid rows and, with ``--resume``, rows already done are judged exactly as a
run judges them) and the Twilio layer's :func:`~bulkops.twilio.wire.build_request`
(so each line is the request the client would send).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..engine import Feed, RecordMaker
from ..errors import Exit
from ..jobs import Job
from ..journal import check_results_path, read_done_keys
from ..keys import DigestSet
from ..model import Detail, ItemResult, Op, Row
from ..twilio.wire import build_request


def planned_calls(row: Row) -> str:
    """The request(s) a valid row makes, as one line: ``METHOD /path<TAB>form``.

    A migration is its detach from the source, ``; then`` its attach.
    """
    if row.op is not Op.MIGRATE:
        return build_request(row.op, row.kind, row.service_sid, row.sender_sid).one_line
    assert row.from_service_sid is not None  # the job reader guarantees it for migrate
    detach = build_request(Op.DETACH, row.kind, row.from_service_sid, row.sender_sid)
    attach = build_request(Op.ATTACH, row.kind, row.service_sid, row.sender_sid)
    return f"{detach.one_line}; then {attach.one_line}"


def dry_run(
    job: Job,
    *,
    results: str | None = None,
    resume: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> Exit:
    """Print one line per row a run would send (stdout), problems as ``JOB:LINE:`` (stderr).

    Returns :attr:`Exit.FAILED` when a row is invalid or repeats an earlier one,
    else :attr:`Exit.OK`. Raises as :func:`~bulkops.journal.check_results_path` does
    for ``results`` no run could use (``resume`` without it, a directory).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    check_results_path(results, resume=resume)
    done = read_done_keys(results) if resume and results else DigestSet()
    problems = {Detail.INVALID_ROW: 0, Detail.DUPLICATE: 0}

    def report(result: ItemResult) -> None:
        problems[result.detail] += 1
        if result.detail is Detail.INVALID_ROW:
            print(f"{job.path}:{result.line}: invalid: {result.message}", file=err)
        else:
            print(f"{job.path}:{result.line}: duplicate of an earlier row: not sent", file=err)

    records = RecordMaker(time.monotonic, lambda: "")  # printed, never written: no times
    feed = Feed(job.rows(), record=report, records=records, skip=done)
    sent = 0
    for row in feed:
        sent += 1
        out.write(f"{row.line}\t{planned_calls(row)}\n")
    done_text = f", {feed.skipped_done:,} already done" if resume else ""
    print(
        f"bulkops: dry run: {sent:,} rows would be sent, {problems[Detail.INVALID_ROW]:,} "
        f"invalid, {problems[Detail.DUPLICATE]:,} duplicates{done_text}; nothing was sent",
        file=err,
    )
    return Exit.FAILED if any(problems.values()) else Exit.OK
