"""Seed a sandbox world from a job file: every service and sender it names exists.

``stage`` also puts each sender where the job expects to find it, so
``bulkops run JOB --sandbox`` shows a detach or a migration doing real work.
"""

from __future__ import annotations

from contextlib import suppress

from ..jobs import Job
from ..model import Op, Row
from .problems import TwilioProblem
from .world import World


def seed_from_job(world: World, job: Job, *, stage: bool = False) -> tuple[int, int]:
    """Make every valid row's services and sender exist; returns (rows used, rows skipped).

    ``stage`` also puts each sender where the job expects to find it (a detach
    row's service, a migrate row's source; the first such row wins), so
    that ``bulkops run JOB --sandbox`` shows a detach or a migration doing real
    work.
    """
    used = skipped = 0
    for row in job.rows():
        if not isinstance(row, Row):
            skipped += 1
            continue
        world.add_service(row.service_sid)
        if row.from_service_sid is not None:
            world.add_service(row.from_service_sid)
        world.seed_senders(row.kind, [row.sender_sid])
        used += 1
        if stage:
            _stage(world, row)
    return used, skipped


def _stage(world: World, row: Row) -> None:
    where = {Op.DETACH: row.service_sid, Op.MIGRATE: row.from_service_sid}
    target = where.get(row.op)
    if target is None or world.senders[row.sender_sid].service_sid is not None:
        return
    with suppress(TwilioProblem):  # a full pool: leave it unattached
        world.attach(target, row.kind, row.sender_sid)
