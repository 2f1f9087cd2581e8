"""What ``bulkops verify`` checks, without any I/O: a job's rows against listed holdings.

Given what the listed services hold (:class:`Holdings`), each row's sender must be:

========  ===================================================================
attach    attached to ``service_sid``
migrate   attached to ``service_sid`` and not to ``from_service_sid`` (a
          sender with a SID is in one service at most, so only an alpha
          sender's source is listed to check that)
fetch     attached to ``service_sid``
detach    not attached to ``service_sid``, which exists (a detach from a
          service that does not exist did nothing: a mistyped SID)
========  ===================================================================

Senders are matched by their identity (:attr:`~bulkops.model.Row.identity`:
the SID, or an alpha sender's text), so a row naming a number is checked once
its number is resolved; a number the account does not own is a mismatch. Only
a sender's last row says where the job leaves it (:func:`plan`); its earlier
rows are counted as superseded, not checked. "Its last row" is per sender for
a kind in one service at a time (phone numbers, short codes), and per sender
and service for a kind that may be in several (alpha senders: the same text in
three services is three senders to check; a migrate row speaks of its source
too). One exception: an earlier attach of a phone number or short code to
another service than its last row's attach cannot hold with it (it can be in
one service), so it is reported as a mismatch, not superseded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..keys import DigestSet, key_digest
from ..model import InvalidRow, Op, Row, SenderKind


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the listed services hold: each attached sender and its services."""

    #: sender identity (SID, or alpha text) → the listed services it is attached to.
    where: dict[str, list[str]]
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
    """The counts of one verification, in rows (services and pages as listed)."""

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


@dataclass(frozen=True, slots=True)
class LastRow:
    """The last row that speaks of a sender (in a service, for a kind that may be in several)."""

    line: int
    op: Op
    service_sid: str


#: A sender as :func:`sender_keys` names it → its last row, for senders named more than once.
LastRows = dict[tuple[str, ...], LastRow]


def sender_keys(row: Row) -> tuple[tuple[str, ...], ...]:
    """What ``row`` says something about: its sender, or its sender in each service it names.

    ``(kind, identity)`` for a kind in one service at a time; for a kind that may
    be in several, ``(kind, identity, service)`` for the row's service and, for
    a migrate, its source.
    """
    kind, identity = row.kind.value, row.identity
    if row.kind.spec.one_service_at_a_time:
        return ((kind, identity),)
    keys = [(kind, identity, row.service_sid)]
    if row.from_service_sid:
        keys.append((kind, identity, row.from_service_sid))
    return tuple(keys)


def plan(items: Iterable[Row | InvalidRow]) -> tuple[dict[str, set[SenderKind]], LastRows]:
    """The services to list, with their kinds; each sender named by several rows → its last row.

    Only a sender's last row says where the job leaves it; earlier rows of the
    same sender (see :func:`sender_keys`) are not checked. An alpha sender's
    migrate row also lists its source. Memory: one digest per row and service
    it names, a dict entry per repeated sender.
    """
    services: dict[str, set[SenderKind]] = {}
    seen = DigestSet()
    last: LastRows = {}
    for item in items:
        if not isinstance(item, Row):
            continue
        services.setdefault(item.service_sid, set()).add(item.kind)
        if item.from_service_sid and not item.kind.spec.one_service_at_a_time:
            services.setdefault(item.from_service_sid, set()).add(item.kind)
        for key in sender_keys(item):
            if not seen.add(key_digest(key)):  # named before: remember the last
                last[key] = LastRow(item.line, item.op, item.service_sid)
    return services, last


def check_row(row: Row, holdings: Holdings) -> str | None:
    """Why ``row`` does not hold, or None when it does."""
    if not row.resolved:
        return f"the account has no {row.kind.spec.label} {row.sender}"
    sender, service = row.identity, row.service_sid
    actual = holdings.where.get(sender, [])
    if row.op is Op.DETACH:
        if service in holdings.missing:
            return f"{sender} expected detached from {service} but service {service} does not exist"
        return (
            None
            if service not in actual
            else f"{sender} expected not attached to {service} but it is"
        )
    source = row.from_service_sid
    if service in actual and (source is None or source not in actual):
        return None
    if service in holdings.missing:
        because = f"service {service} does not exist"
    elif service in actual:
        because = f"it is still attached to {source}"
    elif actual:
        because = f"it is attached to {', '.join(actual)}"
    else:
        because = "it is not"
    if row.op is Op.MIGRATE:
        return f"{sender} expected moved from {source} to {service} but {because}"
    return f"{sender} expected attached to {service} but {because}"


def check_rows(
    items: Iterable[Row | InvalidRow], holdings: Holdings, last: LastRows | None = None
) -> Iterator[Problem | int | None]:
    """One entry per row, in file order: None when it holds, else its :class:`Problem`.

    A row whose sender a later row acts on (``last``, from :func:`plan`) is not
    checked: its entry is the line of that later row, unless the two cannot
    both hold (:func:`_cannot_both_hold`): then it is a :class:`Problem`.
    """
    last = last or {}
    for item in items:
        if isinstance(item, InvalidRow):
            yield Problem(item.line, f"invalid row: {item.problem}", invalid=True)
            continue
        later = max(
            (last[key] for key in sender_keys(item) if key in last),
            key=lambda row: row.line,
            default=None,
        )
        if later is not None and later.line > item.line:
            message = _cannot_both_hold(item, later)
            yield later.line if message is None else Problem(item.line, message)
            continue
        message = check_row(item, holdings)
        yield None if message is None else Problem(item.line, message)


def _cannot_both_hold(row: Row, later: LastRow) -> str | None:
    """Why ``row`` and the later row of its sender cannot both hold; None if the later one just
    says where the job leaves the sender (a detach, a move, the same service again)."""
    if not row.kind.spec.one_service_at_a_time or later.service_sid == row.service_sid:
        return None
    if row.op is not Op.ATTACH or later.op is not Op.ATTACH:
        return None
    return (
        f"{row.identity} expected attached to {row.service_sid} but superseded by line "
        f"{later.line}, which attaches it to {later.service_sid}: {row.kind.spec.a_label} "
        "can be in one service"
    )


def tally(
    entries: Iterable[Problem | int | None],
    holdings: Holdings,
    report: Callable[[Problem], None],
) -> VerifyReport:
    """Count :func:`check_rows`' entries, handing each :class:`Problem` to ``report`` in order."""
    rows = matches = mismatches = invalid = superseded = 0
    for entry in entries:
        rows += 1
        if entry is None:
            matches += 1
            continue
        if isinstance(entry, int):
            superseded += 1
            continue
        if entry.invalid:
            invalid += 1
        else:
            mismatches += 1
        report(entry)
    return VerifyReport(
        rows=rows,
        matches=matches,
        mismatches=mismatches,
        invalid=invalid,
        services=holdings.services,
        pages=holdings.pages,
        superseded=superseded,
    )


__all__ = [
    "Holdings",
    "LastRow",
    "LastRows",
    "Problem",
    "VerifyReport",
    "check_row",
    "check_rows",
    "plan",
    "sender_keys",
    "tally",
]
