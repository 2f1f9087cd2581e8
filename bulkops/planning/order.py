"""The order a plan runs in: for each service, what leaves it before what enters it.

Detaches first, then moves, then attaches. Among moves, one into a service
comes after every move out of it, so a service at its limit has room when its
newcomers arrive: a move is ready once its target has no move out still to
place. Moves that only wait on each other (a cycle: A→B and B→A) are placed in
file order, and the run finds out whether there is room.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..model import Op
from .values import Step


def run_order(detaches: Sequence[Step], enters: Sequence[Step]) -> tuple[Step, ...]:
    """``detaches`` (as given), the moves of ``enters`` in dependency order, then its attaches.

    ``enters`` holds attaches and moves in file order; the order among attaches,
    and among moves that are ready together, is kept.
    """
    moves = [step for step in enters if step.op is Op.MIGRATE]
    attaches = [step for step in enters if step.op is not Op.MIGRATE]
    return (*detaches, *_moves_in_order(moves), *attaches)


def _moves_in_order(moves: list[Step]) -> list[Step]:
    placed: list[Step] = []
    pending = moves
    leaving = Counter(step.from_service_sid for step in moves)
    while pending:
        ready = [step for step in pending if leaving[step.service_sid] == 0]
        if not ready:  # a cycle: the first waiting move goes, in file order
            ready = pending[:1]
        chosen = {id(step) for step in ready}
        pending = [step for step in pending if id(step) not in chosen]
        placed += ready
        leaving.subtract(step.from_service_sid for step in ready)
    return placed


__all__ = ["run_order"]
