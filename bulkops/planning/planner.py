"""The plan, as a pure function of what is desired and what is: :func:`make_plan`.

For each desired row, in file order:

- a phone number or short code in no service → ``attach``; in another service →
  ``migrate`` from there; in the desired service → unchanged;
- an alpha sender (which may sit in several services at once) → ``attach`` when
  the desired service lacks its text, else unchanged; it is never moved;
- with ``prune``, each sender a desired service holds that the file does not
  name there → ``detach`` (a phone number or short code the file wants
  elsewhere is moved instead; one whose rows conflict is left alone).

Rows are left out, as :class:`~bulkops.planning.values.Conflict`, when invalid,
for a service the account lacks, for a number the account does not own, for a
phone number or short code desired in two services (every row of it), and when
they would take a service past :data:`~bulkops.planning.values.SENDER_LIMIT`
phone numbers and short codes: the enters that fit stay, in file order, the
rest are left out, and a move left out keeps its sender in the source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..model import InvalidRow, Op, SenderKind
from .order import run_order
from .values import (
    SENDER_LIMIT,
    Conflict,
    Current,
    Plan,
    Problem,
    ServiceCount,
    Step,
    Wanted,
)

#: Items per page when the run lists a service's alpha senders to find their SIDs (the
#: engine's ``directory.PAGE_SIZE``, Twilio's largest page).
_ALPHA_PAGE = 1000


@dataclass(slots=True)
class _Draft:
    """The plan while it is made."""

    conflicts: list[Conflict] = field(default_factory=list)
    enters: list[Step] = field(default_factory=list)
    detaches: list[Step] = field(default_factory=list)
    unchanged: int = 0
    repeated: int = 0
    #: The services desired rows name (that the account has).
    desired: set[str] = field(default_factory=set)


def make_plan(
    items: Iterable[Wanted | InvalidRow],
    current: Current,
    *,
    prune: bool = False,
    limit: int = SENDER_LIMIT,
) -> Plan:
    """The plan that takes ``current`` to what ``items`` (the desired rows, in file order) ask.

    ``limit`` is the most phone numbers and short codes a service may hold. See
    the module's rules. Pure: no I/O; memory grows with the rows and the
    senders ``current`` holds.
    """
    draft = _Draft()
    wanted = _admissible(items, current, draft)
    draft.desired = {w.service_sid for w in wanted}
    where = {h.sid: s for s, held in current.held.items() for h in held if _one_service(h.kind)}
    alpha = {
        (s, h.number) for s, held in current.held.items() for h in held if not _one_service(h.kind)
    }
    desired_in: dict[str, set[str]] = {}
    for w in wanted:
        if _one_service(w.kind):
            desired_in.setdefault(w.identity, set()).add(w.service_sid)
    conflicted = {sender for sender, services in desired_in.items() if len(services) > 1}
    seen: set[tuple[str, str]] = set()
    for w in wanted:
        key = (w.service_sid, w.identity)
        if key in seen:
            draft.repeated += 1
            continue
        seen.add(key)
        if w.identity in conflicted:
            others = ", ".join(sorted(desired_in[w.identity] - {w.service_sid}))
            draft.conflicts.append(
                _conflict(w, Problem.TWO_SERVICES, f"is also desired in {others}; it can be in one")
            )
            continue
        if _one_service(w.kind):
            now = where.get(w.identity)
            in_place = now == w.service_sid
        else:  # an alpha sender is in place when the service has its text; never moved
            now, in_place = None, (w.service_sid, w.identity) in alpha
        if in_place:
            draft.unchanged += 1
        elif now is None:
            draft.enters.append(_step(Op.ATTACH, w))
        else:
            draft.enters.append(_step(Op.MIGRATE, w, source=now))
    if prune:
        draft.detaches = _prunes(wanted, current, seen, conflicted, desired_in)
    return _fit(draft, current, limit)


def _admissible(
    items: Iterable[Wanted | InvalidRow], current: Current, draft: _Draft
) -> list[Wanted]:
    """The rows that may be planned; the others become conflicts."""
    wanted = []
    for item in items:
        if isinstance(item, InvalidRow):
            draft.conflicts.append(
                Conflict(item.line, Problem.INVALID, f"invalid row: {item.problem}")
            )
        elif item.service_sid not in current.services:
            problem = "the account has no such Messaging Service"
            draft.conflicts.append(_conflict(item, Problem.NO_SERVICE, problem))
        elif not item.owned:
            draft.conflicts.append(
                _conflict(item, Problem.NOT_OWNED, "the account does not own it")
            )
        else:
            wanted.append(item)
    return wanted


def _prunes(
    wanted: list[Wanted],
    current: Current,
    named: set[tuple[str, str]],
    conflicted: set[str],
    desired_in: dict[str, set[str]],
) -> list[Step]:
    """A detach per sender of a desired service that the file names neither there nor elsewhere."""
    steps = []
    for service_sid in sorted({w.service_sid for w in wanted}):
        for held in current.held.get(service_sid, ()):
            sender = held.identity
            if (service_sid, sender) in named or sender in conflicted:
                continue
            if _one_service(held.kind) and sender in desired_in:
                continue  # wanted in another service: moved, not detached
            steps.append(Step(Op.DETACH, service_sid, held.kind, sender, held.number))
    return steps


def _fit(draft: _Draft, current: Current, limit: int) -> Plan:
    """Leave out the enters that would pass ``limit``; then order, count and cost the plan."""
    before = {s: sum(1 for h in held if _counted(h.kind)) for s, held in current.held.items()}
    refused: set[int] = set()
    while True:  # a refused move keeps its sender in the source, which then has less room
        count = dict(before)
        for step in draft.detaches + [s for i, s in enumerate(draft.enters) if i not in refused]:
            source = step.service_sid if step.op is Op.DETACH else step.from_service_sid
            if source is not None and _counted(step.kind):
                count[source] = count.get(source, 0) - 1
        more = False
        for i, step in enumerate(draft.enters):
            if i in refused or not _counted(step.kind):
                continue
            if count.get(step.service_sid, 0) >= limit:
                refused.add(i)
                more = True
            else:
                count[step.service_sid] = count.get(step.service_sid, 0) + 1
        if not more:
            break
    conflicts = draft.conflicts + [_over_limit(draft.enters[i], before, limit) for i in refused]
    enters = [s for i, s in enumerate(draft.enters) if i not in refused]
    steps = run_order(draft.detaches, enters)
    touched = draft.desired | {s.service_sid for s in steps}
    touched |= {s.from_service_sid for s in steps if s.from_service_sid}
    services = tuple(
        ServiceCount(s, before.get(s, 0), count.get(s, before.get(s, 0))) for s in sorted(touched)
    )
    return Plan(
        steps=steps,
        conflicts=tuple(sorted(conflicts, key=lambda c: c.line)),
        unchanged=draft.unchanged,
        repeated=draft.repeated,
        services=services,
        calls=_calls(steps, current),
        limit=limit,
    )


def _calls(steps: Iterable[Step], current: Current) -> int:
    """The calls a run of ``steps`` makes when each succeeds at once.

    An attach or a detach is one call, a move two (detach from the source, attach
    to the target). Detaching an alpha sender needs its ``AI…`` SID in that
    service, so the run lists the service's alpha senders once (a page per 1,000).
    """
    calls = 0
    listed: set[str] = set()
    for step in steps:
        calls += 2 if step.op is Op.MIGRATE else 1
        if step.op is Op.DETACH and _by_text(step.kind):
            listed.add(step.service_sid)
    for service_sid in listed:
        alphas = sum(1 for h in current.held.get(service_sid, ()) if _by_text(h.kind))
        calls += max(1, -(-alphas // _ALPHA_PAGE))
    return calls


def _one_service(kind: SenderKind) -> bool:
    """In one service at a time (moved, not copied); else it may be in several."""
    return kind.spec.one_service_at_a_time


def _counted(kind: SenderKind) -> bool:
    """Counted toward :data:`~bulkops.planning.values.SENDER_LIMIT`."""
    return kind.spec.in_sender_pool


def _by_text(kind: SenderKind) -> bool:
    """Its SID is a service's own: a detach lists the service to find it."""
    return kind.spec.creates_by_text


def _step(op: Op, wanted: Wanted, *, source: str | None = None) -> Step:
    return Step(
        op, wanted.service_sid, wanted.kind, wanted.identity, wanted.number, source, wanted.line
    )


def _conflict(wanted: Wanted, problem: Problem, why: str) -> Conflict:
    label = wanted.kind.spec.label
    return Conflict(
        wanted.line, problem, f"{label} {wanted.sender} for {wanted.service_sid}: {why}"
    )


def _over_limit(step: Step, before: dict[str, int], limit: int) -> Conflict:
    assert step.line is not None  # enters come from desired rows
    label = step.kind.spec.label
    held = before.get(step.service_sid, 0)
    why = (
        f"would take the service past Twilio's limit of {limit} phone numbers and short codes "
        f"(it holds {held} now; the rows before this one fill it)"
    )
    return Conflict(
        step.line,
        Problem.OVER_LIMIT,
        f"{label} {step.number or step.sender} for {step.service_sid}: {why}",
    )


__all__ = ["make_plan"]
