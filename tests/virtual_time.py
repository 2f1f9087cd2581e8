"""An asyncio loop whose clock jumps instead of waiting.

When every task is waiting on a timer, the loop advances its clock straight to
the next timer instead of sleeping, so ``asyncio.sleep``, ``aiolimiter`` and
anything else built on ``loop.time()`` run at full speed while seeing exactly
the times they asked for. Only for code that does no real I/O.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if not ready and timeout is not None and self.loop is not None:
            # Every turn of the loop takes a microsecond, as on a real machine:
            # code that waits for "a rounding error from now" must see time move.
            self.loop.advance(max(timeout, 1e-6))
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` is virtual and jumps to the next timer."""

    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = 0.0

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh :class:`VirtualClockLoop`."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
