"""Where senders are now, as a plan needs it: the account's services and what each holds.

The calls, for a desired file (:func:`survey`):

1. ``GET /v1/Services``, paged: the account's Messaging Services;
2. one paged list per service and kind: every service for the kinds that are in
   one service at a time (phone numbers and short codes) when the file names
   any, to find where each is; the desired services for the kinds the 400 limit
   counts, and for alpha senders too when the file names one or ``prune`` is
   asked (an alpha sender may be in several services; elsewhere it never moves);
3. ownership, through the account's listings (the 2010 API), only for what the
   service lists did not show: numbers by :func:`bulkops.resolve.resolve_numbers`'
   fewest calls, and, when a SID of a kind is in no service, that kind's whole
   listing (a SID cannot be filtered for), which resolves the kind's numbers too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass

import anyio

from ..errors import RunAborted
from ..jobs import Job
from ..model import InvalidRow, Op, Row, SenderKind
from ..planning import Current, Held, Wanted
from ..resolve import NumberDirectory, resolve_numbers
from ..twilio import Resource, ServiceLister, ServiceNotFound

#: Kinds that count toward a service's 400-sender limit: listed in every desired service.
POOL_KINDS = tuple(kind for kind in SenderKind if kind.spec.in_sender_pool)
#: Kinds in one service at a time: listed in every service, to find where each is.
ONE_SERVICE_KINDS = tuple(kind for kind in SenderKind if kind.spec.one_service_at_a_time)
#: Kinds that may be in several services: listed only where the file wants them.
SEVERAL_SERVICES_KINDS = tuple(k for k in SenderKind if not k.spec.one_service_at_a_time)


@dataclass(frozen=True, slots=True)
class Survey:
    """The desired rows, ready to plan, and the current state they are planned against."""

    items: list[Wanted | InvalidRow]
    current: Current


async def survey(
    job: Job,
    services: ServiceLister,
    account: NumberDirectory,
    *,
    prune: bool = False,
    concurrency: int = 4,
) -> Survey:
    """Read ``job`` (the desired file) and list what its plan needs (see the module's calls).

    ``concurrency`` lists run at once. Raises :class:`RunAborted` when a listing
    fails for good, and :class:`~bulkops.errors.JobFileError` when the file
    turns out unreadable while streaming.
    """
    rows = [_desired(item) for item in job.rows()]
    valid = [row for row in rows if isinstance(row, Row)]
    account_services = await _services(services)
    desired = {row.service_sid for row in valid} & account_services
    finds = any(row.kind.spec.one_service_at_a_time for row in valid)
    several = prune or any(not row.kind.spec.one_service_at_a_time for row in valid)
    to_list: dict[str, set[SenderKind]] = {}
    for service_sid in account_services:
        kinds = set(ONE_SERVICE_KINDS) if finds else set()
        if service_sid in desired:
            kinds |= set(POOL_KINDS) | (set(SEVERAL_SERVICES_KINDS) if several else set())
        if kinds:
            to_list[service_sid] = kinds
    held = await list_held(services, to_list, concurrency=concurrency)
    owned = await _owned(valid, held, account)
    items: list[Wanted | InvalidRow] = [
        row if isinstance(row, InvalidRow) else _wanted(row, owned) for row in rows
    ]
    return Survey(items, Current(frozenset(account_services), held))


def _desired(item: Row | InvalidRow) -> Row | InvalidRow:
    """A desired row says where a sender should be: ``op`` empty (read as attach) or attach."""
    if isinstance(item, InvalidRow) or item.op is Op.ATTACH:
        return item
    problem = f"op {item.op.value!r}: a desired row says where a sender should be (attach, or none)"
    return InvalidRow(item.line, item.op.value, item.service_sid, item.sender, problem, item.kind)


async def _services(lister: ServiceLister) -> set[str]:
    found: set[str] = set()
    async with aclosing(lister.services()) as pages:
        async for page in pages:
            found.update(sid for sid in page if sid)
    return found


async def list_each(
    lister: ServiceLister,
    services: Mapping[str, Iterable[SenderKind]],
    take: Callable[[str, SenderKind, list[Resource]], None],
    *,
    concurrency: int = 4,
    missing: Callable[[str], None] = lambda service_sid: None,
) -> None:
    """List each service once per kind asked, ``concurrency`` lists at a time, paged.

    Each page goes to ``take`` with its service and kind; a service that answers
    404 goes to ``missing``. Raises :class:`RunAborted` when a listing fails for
    good (the others are cancelled).
    """
    failures: list[RunAborted] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def list_one(service_sid: str, kind: SenderKind, scope: anyio.CancelScope) -> None:
        async with limiter:
            try:
                async with aclosing(lister.pages_of(service_sid, kind)) as pages:
                    async for page in pages:
                        take(service_sid, kind, page)
            except ServiceNotFound:
                missing(service_sid)
            except RunAborted as exc:  # stop the others; raised below, not as an ExceptionGroup
                failures.append(exc)
                scope.cancel()

    async with anyio.create_task_group() as group:
        for service_sid, kinds in sorted(services.items()):
            for kind in sorted(set(kinds), key=list(SenderKind).index):
                group.start_soon(list_one, service_sid, kind, group.cancel_scope)
    if failures:
        raise failures[0]


async def list_held(
    lister: ServiceLister, services: Mapping[str, Iterable[SenderKind]], *, concurrency: int = 4
) -> dict[str, tuple[Held, ...]]:
    """What each service holds of the kinds asked, listing each (service, kind) once, paged.

    A service that vanished meanwhile (404) holds nothing. Raises
    :class:`RunAborted` when a listing fails for good (the others are cancelled).
    """
    asked = {service_sid: tuple(kinds) for service_sid, kinds in services.items()}
    held: dict[str, list[Held]] = {service_sid: [] for service_sid, kinds in asked.items() if kinds}

    def take(service_sid: str, kind: SenderKind, page: list[Resource]) -> None:
        held[service_sid] += [
            Held(kind, str(item.get("sid") or ""), str(item.get(kind.number_field) or ""))
            for item in page
        ]

    await list_each(lister, asked, take, concurrency=concurrency)
    return {service_sid: tuple(found) for service_sid, found in held.items()}


@dataclass(frozen=True, slots=True)
class _Owned:
    """What the account owns: (kind, number) → SID, and SID → number."""

    sids: dict[tuple[SenderKind, str], str]
    numbers: dict[str, str]

    def note(self, kind: SenderKind, number: str, sid: str) -> None:
        self.sids[kind, number] = sid
        self.numbers[sid] = number


async def _owned(
    rows: list[Row], held: Mapping[str, tuple[Held, ...]], account: NumberDirectory
) -> _Owned:
    """The SIDs and numbers of the senders ``rows`` name, from the lists, else the account's."""
    owned = _Owned({}, {})
    for senders in held.values():
        for h in senders:
            if h.kind.spec.account_listing is not None:  # the account's own: not created by text
                owned.note(h.kind, h.number, h.sid)
    numbers, unseen_sids = _unknown(rows, owned)
    for kind in unseen_sids:
        await _read_listing(kind, account, owned)
        numbers.pop(kind, None)
    if numbers:
        found = await resolve_numbers(numbers, account)
        for (kind, number), sid in found.sids.items():
            owned.note(kind, number, sid)
    return owned


def _unknown(rows: list[Row], owned: _Owned) -> tuple[dict[SenderKind, set[str]], set[SenderKind]]:
    """The numbers no service list showed, by kind; and the kinds with a SID no list showed."""
    numbers: dict[SenderKind, set[str]] = {}
    unseen_sids: set[SenderKind] = set()
    for row in rows:
        if row.kind.spec.account_listing is None:
            continue
        if row.sender_sid and row.sender_sid not in owned.numbers:
            unseen_sids.add(row.kind)
        elif not row.sender_sid and (row.kind, row.sender) not in owned.sids:
            numbers.setdefault(row.kind, set()).add(row.sender)
    return numbers, unseen_sids


async def _read_listing(kind: SenderKind, account: NumberDirectory, owned: _Owned) -> None:
    """Every number of ``kind`` the account has, paged: a SID can be checked no other way."""
    listing = kind.spec.account_listing
    assert listing is not None  # _unknown gives only kinds with a listing
    async with aclosing(account.numbers(listing)) as pages:
        async for page in pages:
            for number, sid in page:
                owned.note(kind, number, sid)


def _wanted(row: Row, owned: _Owned) -> Wanted:
    if row.kind.spec.account_listing is None:  # no account listing: Twilio creates it
        return Wanted(row.line, row.service_sid, row.kind, row.sender, None, row.sender)
    if row.sender_sid:
        number = owned.numbers.get(row.sender_sid)
        sid = row.sender_sid if number is not None else None
        return Wanted(row.line, row.service_sid, row.kind, row.sender, sid, number or "")
    sid = owned.sids.get((row.kind, row.sender))
    return Wanted(row.line, row.service_sid, row.kind, row.sender, sid, row.sender)


__all__ = [
    "ONE_SERVICE_KINDS",
    "POOL_KINDS",
    "SEVERAL_SERVICES_KINDS",
    "Survey",
    "list_each",
    "list_held",
    "survey",
]
