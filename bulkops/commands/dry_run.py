"""``bulkops run --dry-run``: the calls a run would make, printed, with nothing sent.

It goes through the engine's own :class:`~bulkops.engine.Feed` (so duplicates,
invalid rows and, with ``--resume``, rows already done are judged exactly as a
run judges them) and the Twilio layer's :func:`~bulkops.twilio.wire.build_request`
(so each line is the request the client would send).

A dry run asks nothing of Twilio, so a SID it cannot know is shown as a
placeholder: ``<PN… of +14155550100>`` for a number a run would resolve,
``<AI… of My Brand>`` for an alpha sender's SID in a service. For the same
reason a number and its SID are not known to be the same sender here, nor is a
number known to be the account's: the closing line says how many rows name a
number, so their count is not taken for rows that will be sent.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from typing import TextIO

from ..engine import Feed, RecordMaker, migration_for
from ..errors import Exit
from ..jobs import Job
from ..journal import check_results_path, read_done_keys
from ..keys import DigestSet
from ..model import Detail, InvalidRow, ItemResult, Op, Row
from ..twilio.wire import build_request


def placeholder(row: Row) -> str:
    """How a SID the dry run cannot know is shown, e.g. ``<PN… of +14155550100>``."""
    return f"<{row.kind.spec.sid_prefix}… of {row.sender}>"


def planned_calls(row: Row) -> str:
    """The request(s) a valid row makes, as one line: ``METHOD /path<TAB>form``.

    A migration is its calls in the order its kind moves (``; then`` between):
    detach from the source then attach, or for an alpha sender the reverse.
    """
    sid = row.sender_sid or placeholder(row)

    def one(op: Op, service_sid: str) -> str:
        value = (row.create_value or sid) if op is Op.ATTACH else sid
        return build_request(op, row.kind, service_sid, value).one_line

    if row.op is not Op.MIGRATE:
        return one(row.op, row.service_sid)
    assert row.from_service_sid is not None  # the job reader guarantees it for migrate
    where = {"source": row.from_service_sid, "target": row.service_sid}
    return "; then ".join(one(op, where[side]) for op, side in migration_for(row).PLAN)


def _unresolved_shown(item: Row | InvalidRow) -> Row | InvalidRow:
    """A row naming a number, with its placeholder for the SID a run would look up."""
    if isinstance(item, Row) and not item.resolved:
        return replace(item, sender_sid=placeholder(item))
    return item


def _to_send(rows: int, numbers: int) -> str:
    """The rows a run would send, saying how many of them name numbers a run resolves first."""
    if not numbers:
        return f"{rows:,} rows would be sent"
    return (
        f"{rows:,} rows to send ({numbers:,} of them name a number that a run resolves to "
        "its SID first, so whether the account owns it, and whether it repeats a row "
        "naming that SID, is not judged here)"
    )


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
    feed = Feed(map(_unresolved_shown, job.rows()), record=report, records=records, skip=done)
    sent = numbers = 0
    for row in feed:
        sent += 1
        numbers += row.sender_sid == placeholder(row)
        out.write(f"{row.line}\t{planned_calls(row)}\n")
    print(
        f"bulkops: dry run: {_to_send(sent, numbers)}, {problems[Detail.INVALID_ROW]:,} "
        f"invalid, {problems[Detail.DUPLICATE]:,} duplicates"
        f"{f', {feed.skipped_done:,} already done' if resume else ''}; nothing was sent",
        file=err,
    )
    return Exit.FAILED if any(problems.values()) else Exit.OK
