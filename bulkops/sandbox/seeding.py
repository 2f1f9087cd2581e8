"""Seed a sandbox world from a job file: every service and sender it names exists.

A row may name its sender by SID (it gets a number), by number (it gets a SID)
or, for an alpha sender, by its text, which needs nothing on the account: Twilio
creates an alpha sender when it is added to a service. ``stage`` also puts each
sender where the job expects to find it, so ``bulkops run JOB --sandbox`` shows
a detach, a fetch or a migration doing real work. :func:`spread_from_job` spreads the
senders of a desired file over services instead, so ``bulkops plan --sandbox``
has attaches, moves and senders already in place to show.
"""

from __future__ import annotations

import hashlib
import zlib
from contextlib import suppress

from ..jobs import Job
from ..model import Op, Row, SenderKind
from .problems import TwilioProblem
from .world import World


def seed_from_job(world: World, job: Job, *, stage: bool = False) -> tuple[int, int]:
    """Make every valid row's services and sender exist; returns (rows used, rows skipped).

    Phone numbers and short codes are put on the account, attached to nothing
    (see :meth:`World.seed_senders`); alpha senders need nothing. ``stage``
    also puts each sender where the job expects to find it: in a detach or fetch
    row's service, or a migrate row's source (the first row of each sender
    decides: after an attach, it is expected in no service; a full pool or a
    sender already in a service is left as it is).
    Invalid rows are skipped. Raises :class:`~bulkops.errors.JobFileError` if
    the file turns out unreadable while streaming.
    """
    used = skipped = 0
    staged: set[tuple[SenderKind, str]] = set()
    for row in job.rows():
        if not isinstance(row, Row):
            skipped += 1
            continue
        world.add_service(row.service_sid)
        if row.from_service_sid is not None:
            world.add_service(row.from_service_sid)
        value = _seed_sender(world, row)
        used += 1
        if stage:
            _stage(world, row, value, staged)
    return used, skipped


def spread_from_job(world: World, job: Job) -> tuple[int, int]:
    """Seed as :func:`seed_from_job` does, then spread the senders; returns (rows used, skipped).

    By a hash of each sender (so the same file spreads the same way every
    time): a third stay in no service, a third go to the row's own service (in
    place) and a third to another: the next service the file names, or, when it
    names one, a service of the sandbox's own ("elsewhere"). The first row of a
    sender decides; a full pool or a sender already placed is left as it is.
    """
    used, skipped = seed_from_job(world, job)
    services = sorted({row.service_sid for row in job.rows() if isinstance(row, Row)})
    placed: set[tuple[SenderKind, str]] = set()
    for row in job.rows():
        if not isinstance(row, Row):
            continue
        value = _seed_sender(world, row)
        if (row.kind, value) in placed:
            continue
        placed.add((row.kind, value))
        bucket = zlib.crc32(f"{row.kind.value}:{value}".encode()) % 3
        if bucket == 0:
            continue
        target = row.service_sid if bucket == 1 else _another(world, services, row.service_sid)
        with suppress(TwilioProblem):
            world.attach(target, row.kind, value)
    return used, skipped


def _another(world: World, services: list[str], service_sid: str) -> str:
    """The service after ``service_sid`` among ``services``; the sandbox's own if it is alone."""
    others = [s for s in services if s != service_sid]
    if others:
        return next((s for s in others if s > service_sid), others[0])
    elsewhere = "MG" + hashlib.blake2b(b"bulkops sandbox: elsewhere", digest_size=16).hexdigest()
    world.add_service(elsewhere)
    return elsewhere


def _seed_sender(world: World, row: Row) -> str:
    """The value a create call takes for the row's sender (its SID, or alpha text), made to exist.

    A row that names a number the job reader has already resolved to a SID puts
    exactly that pair on the account, unless either is there already.
    """
    kind = row.kind
    if kind.spec.creates_by_text:
        return row.sender
    if not row.sender_sid:
        return world.seed_senders(kind, [row.sender])[0]
    fresh = row.sender_sid not in world.senders and world.by_number(kind, row.sender) is None
    if fresh and row.sender != row.sender_sid:
        world.add_sender(kind, row.sender_sid, row.sender)
    return world.seed_senders(kind, [row.sender_sid])[0]


def _stage(world: World, row: Row, value: str, staged: set[tuple[SenderKind, str]]) -> None:
    """Put the row's sender where the row expects it, unless an earlier row of it decided."""
    where = {
        Op.DETACH: row.service_sid,
        Op.FETCH: row.service_sid,
        Op.MIGRATE: row.from_service_sid,
    }
    if (row.kind, value) in staged:
        return
    staged.add((row.kind, value))
    target = where.get(row.op)
    if target is None:  # an attach: the job expects the sender in no service yet
        return
    with suppress(TwilioProblem):  # already in a service (or this one), or a full pool
        world.attach(target, row.kind, value)
