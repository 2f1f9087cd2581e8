"""An embedded sandbox for one command, its world kept in a state file between commands.

``bulkops plan --sandbox``, ``run --sandbox`` and ``verify --sandbox`` each start
a sandbox on a loopback port for the length of the command. With ``--state
FILE`` the world is loaded from FILE when it exists (else seeded from the
command's file, as each command seeds) and saved back when the command ends, so
``plan --sandbox --state w.json``, then ``run plan.csv --sandbox --state
w.json``, then ``verify DESIRED --sandbox --state w.json`` see one world, as
``bulkops sandbox --state`` keeps it. The sandbox is loaded only when asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.profile import LoadProfile

if TYPE_CHECKING:
    from ..sandbox import Sandbox, World


def sandbox_world(state: str | None, seed: Callable[[World], object]) -> World:
    """``state``'s world if that file exists, else a new world filled by ``seed`` (e.g. from a job).

    Raises :class:`~bulkops.errors.UsageError` for a state file that cannot be read.
    """
    from ..sandbox import World

    if state is not None and Path(state).exists():
        return World.load(state)
    world = World()
    seed(world)
    return world


@asynccontextmanager
async def embedded_sandbox(
    world: World, state: str | None, *, load: LoadProfile | None = None
) -> AsyncIterator[Sandbox]:
    """A sandbox serving ``world`` on a loopback port; ``world`` saved to ``state`` at the end.

    The world is saved (when ``state`` is given) whatever happened inside, since
    the calls made changed it; OSError if it cannot be written.
    """
    from ..sandbox import Sandbox

    try:
        async with Sandbox(world=world, load=load) as sandbox:
            yield sandbox
    finally:
        if state is not None:
            world.save(state)


__all__ = ["embedded_sandbox", "sandbox_world"]
