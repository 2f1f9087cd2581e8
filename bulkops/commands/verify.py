"""``bulkops verify``: does the world hold what a job asks for?

Two passes over the job file, each streamed: the first collects the distinct
services of its valid rows; each of those is then listed once (paged, retried),
and the second pass checks every row against what the lists held:

========  ===================================================================
attach    the sender is attached to ``service_sid``
migrate   the sender is attached to ``service_sid`` (so it is in no other
          service, ``from_service_sid`` included: a sender is in one at most)
fetch     the sender is attached to ``service_sid``
detach    the sender is not attached to ``service_sid``
========  ===================================================================

Memory holds one entry per sender attached to a listed service (at most 400
per service, Twilio's limit), never one per row. A service the account does
not have (404) holds nothing. Each mismatch and each invalid row is printed on
stdout as ``JOB:LINE: …``; a summary goes to stderr.

Exit codes: 0 every row holds; 1 a mismatch or an invalid row; 2 bad flags or a
job file that cannot be read; 3 the API refused the credentials or kept failing
past ``--max-attempts`` (nothing verified).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

import anyio

from ..config import Credentials
from ..errors import Exit, RunAborted
from ..jobs import open_job
from ..keys import DigestSet, key_digest
from ..model import InvalidRow, Op, Row, SenderKind
from ..retry import Backoff
from ..twilio.client import TwilioClient
from .export import (
    ServiceLister,
    ServiceNotFound,
    Sleep,
    add_connection_arguments,
    connection_from_args,
)


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the listed services hold: each attached sender and its service."""

    #: sender SID → the listed service it is attached to.
    where: dict[str, str]
    #: Listed services that do not exist (404).
    missing: frozenset[str]
    #: Services listed.
    services: int
    #: List calls that succeeded (one per page).
    pages: int


@dataclass(frozen=True, slots=True)
class Problem:
    """One row that does not hold, or could not be checked."""

    line: int
    message: str
    #: True for a row that failed validation; False for a row the world does not match.
    invalid: bool = False


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The counts of one verification."""

    rows: int
    matches: int
    mismatches: int
    invalid: int
    services: int
    pages: int
    #: Rows not checked because a later row of the job acts on the same sender.
    superseded: int = 0

    @property
    def ok(self) -> bool:
        """True when every row holds."""
        return self.mismatches == 0 and self.invalid == 0

    def line(self) -> str:
        """One line a person can read."""
        return (
            f"verified {self.rows:,} rows against {self.services:,} services "
            f"({self.pages:,} list calls): {self.matches:,} hold, "
            f"{self.mismatches:,} mismatches, {self.invalid:,} invalid"
            + (f", {self.superseded:,} superseded by a later row" if self.superseded else "")
        )


def distinct_services(items: Iterable[Row | InvalidRow]) -> list[str]:
    """The sorted distinct ``service_sid`` of the valid rows."""
    return sorted(plan(items)[0])


def plan(items: Iterable[Row | InvalidRow]) -> tuple[set[str], dict[str, int]]:
    """The distinct services, and for each sender named by more than one row its last line.

    Only a sender's last row says where the job leaves it; earlier rows of the
    same sender are not checked. Memory: one digest per row, a dict entry per
    repeated sender.
    """
    services: set[str] = set()
    seen = DigestSet()
    last: dict[str, int] = {}
    for item in items:
        if not isinstance(item, Row):
            continue
        services.add(item.service_sid)
        if not seen.add(key_digest((item.sender_sid,))):  # named before: remember the last
            last[item.sender_sid] = item.line
    return services, last


async def list_holdings(
    lister: ServiceLister, service_sids: Iterable[str], *, concurrency: int = 4
) -> Holdings:
    """List each service once, ``concurrency`` at a time; raises RunAborted if one fails."""
    where: dict[str, str] = {}
    missing: set[str] = set()
    failures: list[RunAborted] = []
    limiter = anyio.CapacityLimiter(concurrency)
    sids = list(service_sids)

    async def list_one(service_sid: str, scope: anyio.CancelScope) -> None:
        async with limiter:
            try:
                async with aclosing(lister.pages_of(service_sid)) as pages:
                    async for page in pages:
                        for item in page:
                            where[str(item.get("sid") or "")] = service_sid
            except ServiceNotFound:
                missing.add(service_sid)
            except RunAborted as exc:  # stop the others; raised below, not as an ExceptionGroup
                failures.append(exc)
                scope.cancel()

    async with anyio.create_task_group() as group:
        for service_sid in sids:
            group.start_soon(list_one, service_sid, group.cancel_scope)
    if failures:
        raise failures[0]
    return Holdings(where, frozenset(missing), services=len(sids), pages=lister.pages)


def check_row(row: Row, holdings: Holdings) -> str | None:
    """Why ``row`` does not hold, or None when it does."""
    sender, service = row.sender_sid, row.service_sid
    actual = holdings.where.get(sender)
    if row.op is Op.DETACH:
        return (
            None if actual != service else f"{sender} expected not attached to {service} but it is"
        )
    if actual == service:
        return None
    if service in holdings.missing:
        because = f"service {service} does not exist"
    elif actual is not None:
        because = f"it is attached to {actual}"
    else:
        because = "it is not"
    if row.op is Op.MIGRATE:
        return f"{sender} expected moved from {row.from_service_sid} to {service} but {because}"
    return f"{sender} expected attached to {service} but {because}"


def check_rows(
    items: Iterable[Row | InvalidRow], holdings: Holdings, last: dict[str, int] | None = None
) -> Iterator[Problem | int | None]:
    """One entry per row, in file order: None when it holds, else its :class:`Problem`.

    A row whose sender a later row acts on (``last``, from :func:`plan`) is not
    checked: its entry is the line of that later row.
    """
    last = last or {}
    for item in items:
        if isinstance(item, InvalidRow):
            yield Problem(item.line, f"invalid row: {item.problem}", invalid=True)
            continue
        later = last.get(item.sender_sid, item.line)
        if later != item.line:
            yield later
            continue
        message = check_row(item, holdings)
        yield None if message is None else Problem(item.line, message)


async def verify(
    job: str | Path,
    *,
    base_url: str,
    credentials: Credentials,
    default_op: Op | None = None,
    report: Callable[[Problem], None] = lambda problem: None,
    timeout_s: float = 30.0,
    concurrency: int = 4,
    page_size: int = 1000,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> VerifyReport:
    """Check every row of ``job`` against one listing of each of its services.

    ``report`` receives each problem in file order as it is found.
    """
    checked = open_job(job, default_op=default_op)
    services, last = plan(checked.rows())
    async with TwilioClient.open(
        base_url=base_url,
        credentials=credentials,
        pool_size=concurrency,
        timeout_s=timeout_s,
        kind=SenderKind.SHORT_CODE,
    ) as client:
        lister = ServiceLister(client, page_size=page_size, backoff=backoff, sleep=sleep, rand=rand)
        holdings = await list_holdings(lister, sorted(services), concurrency=concurrency)
    rows = matches = mismatches = invalid = superseded = 0
    for problem in check_rows(checked.rows(), holdings, last):
        rows += 1
        if problem is None:
            matches += 1
            continue
        if isinstance(problem, int):
            superseded += 1
            continue
        if problem.invalid:
            invalid += 1
        else:
            mismatches += 1
        report(problem)
    return VerifyReport(
        rows=rows,
        matches=matches,
        mismatches=mismatches,
        invalid=invalid,
        services=holdings.services,
        pages=holdings.pages,
        superseded=superseded,
    )


# -- the command line -----------------------------------------------------------------


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``bulkops verify``."""
    parser.add_argument("job", metavar="JOB", help="CSV (with header) or .jsonl job file")
    parser.add_argument(
        "--op", choices=[op.value for op in Op], help="operation for rows without one"
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=4,
        metavar="N",
        help="services listed at once (default 4)",
    )
    add_connection_arguments(parser)


def run_command(args: argparse.Namespace) -> int:
    """``bulkops verify``: 0 all hold, 1 mismatches or invalid rows, 3 aborted; else raises."""
    default_op = Op(args.op) if args.op else None
    base_url, credentials, backoff = connection_from_args(args)
    job = str(args.job)

    def show(problem: Problem) -> None:
        print(f"{job}:{problem.line}: {problem.message}")

    try:
        result = asyncio.run(
            verify(
                job,
                base_url=base_url,
                credentials=credentials,
                default_op=default_op,
                report=show,
                timeout_s=args.timeout,
                concurrency=args.concurrency,
                backoff=backoff,
            )
        )
    except RunAborted as exc:
        print(f"bulkops: verify aborted, nothing verified: {exc.reason}", file=sys.stderr)
        return Exit.ABORTED
    sys.stdout.flush()
    print(f"bulkops: {result.line()}", file=sys.stderr)
    return Exit.OK if result.ok else Exit.FAILED


__all__ = [
    "Holdings",
    "Problem",
    "VerifyReport",
    "add_arguments",
    "check_row",
    "check_rows",
    "distinct_services",
    "list_holdings",
    "run_command",
    "verify",
]
