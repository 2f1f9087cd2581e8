"""What many tests share: well-formed SIDs, and time that moves only when a test says so.

Imported as ``support`` (``tests/`` is on the import path: see ``tests/conftest.py``).

SIDs
    :func:`mg` and :func:`sc`: distinct, deterministic, readable Twilio SIDs.

Clocks, one per kind of test
    :class:`FakeClock`
        A unit test's clock: it stands still until the test moves it, and its
        :meth:`~FakeClock.sleep` returns at once after moving it.
    :class:`SkippingClock`
        The engine's clock and sleep for a run over real sockets: a wait is
        recorded and skipped, so the run sees the time pass without spending it.
    :class:`VirtualClockLoop` / :func:`run_virtual`
        An event loop whose own time jumps to the next timer, for code that sleeps
        on the loop (``asyncio.sleep``, ``aiolimiter``) and does no real I/O.

Result records
    :func:`result`, :func:`record` and :func:`write_log`: a row's final result as
    a value and as a record, and a result log of records.

Random choices
    :func:`replayable_seed`: ``BULKOPS_TEST_SEED`` or a fresh seed, printed so a
    failing run says how to replay it.

A host that never answers
    :func:`silent_listener`: a loopback port that accepts connections and never
    sends a byte (a TLS handshake to it never finishes).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import selectors
import time
from collections.abc import AsyncIterator, Coroutine, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bulkops.model import Detail, ItemResult, Outcome

T = TypeVar("T")

# --- SIDs ----------------------------------------------------------------------------


def mg(n: int = 0) -> str:
    """A valid Messaging Service SID (``MG`` + 32 hex digits) numbered ``n``."""
    return f"MG{n:032x}"


def sc(n: int = 0) -> str:
    """A valid short code SID (``SC`` + 32 hex digits) numbered ``n``."""
    return f"SC{n:032x}"


def pn(n: int = 0) -> str:
    """A valid phone number SID (``PN`` + 32 hex digits) numbered ``n``."""
    return f"PN{n:032x}"


def ai(n: int = 0) -> str:
    """A valid alpha sender SID (``AI`` + 32 hex digits) numbered ``n``."""
    return f"AI{n:032x}"


# --- A clock moved by hand -----------------------------------------------------------


class FakeClock:
    """A monotonic clock that stands still until the test moves it.

    Call it for the time (it fits any ``clock=`` or ``monotonic=`` parameter);
    move it with :meth:`advance` or by setting :attr:`now` to a later time. As an
    injected ``sleep=``, :meth:`sleep` records the wait, moves the clock by it
    and returns without waiting. It never goes backwards.
    """

    def __init__(self, now: float = 0.0) -> None:
        self._now = now
        #: Every wait asked of :meth:`sleep`, in order.
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self._now

    @property
    def now(self) -> float:
        """The current time in seconds; set it to jump forward to a given time."""
        return self._now

    @now.setter
    def now(self, value: float) -> None:
        if value < self._now:
            raise ValueError(f"a monotonic clock cannot go back from {self._now} to {value}")
        self._now = value

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back; advance({seconds})")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait and skip it: the clock moves on and other tasks get one turn."""
        self.waits.append(seconds)
        self._now += max(seconds, 0.0)
        await asyncio.sleep(0)


# --- The engine's clock over real sockets --------------------------------------------


class SkippingClock:
    """The engine's clock and sleep over real sockets: a wait is recorded and skipped.

    Calling it (or :meth:`monotonic`) gives the real monotonic clock plus every
    wait skipped so far, so the engine sees the time it asked to wait go by;
    :meth:`sleep` yields for ``real_s`` only, so the sockets keep turning and the
    test stays quick.
    """

    def __init__(self, *, real_s: float = 0.001) -> None:
        #: How long each skipped wait really lasts, in seconds.
        self.real_s = real_s
        #: Every wait asked of :meth:`sleep`, in order.
        self.waits: list[float] = []
        #: The sum of the waits skipped so far, in seconds.
        self.skipped_s = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped_s

    async def sleep(self, seconds: float) -> None:
        """Record the wait, skip it, and yield for ``real_s`` of real time."""
        self.waits.append(seconds)
        self.skipped_s += max(seconds, 0.0)
        await asyncio.sleep(self.real_s)


# --- A loop whose time jumps ---------------------------------------------------------


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without blocking; when nothing is ready, moves the loop's time instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if not ready and timeout is not None and self.loop is not None:
            # Every turn of the loop takes a microsecond, as on a real machine:
            # code that waits for "a rounding error from now" must see time move.
            self.loop.advance(max(timeout, 1e-6))
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` is virtual and jumps to the next timer.

    When every task is waiting on a timer, the clock moves straight to that timer
    instead of sleeping, so ``asyncio.sleep``, ``aiolimiter`` and anything else
    built on ``loop.time()`` run at full speed while seeing exactly the times they
    asked for. Only for code that does no real I/O.
    """

    def __init__(self) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = 0.0

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the loop's clock ``seconds`` forward."""
        self._now += seconds


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh :class:`VirtualClockLoop`."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


# --- Result records ------------------------------------------------------------------


def result(line: int = 2, **overrides: Any) -> ItemResult:
    """A row's final result: by default line ``line`` attached ``sc(line)`` to ``mg(1)``.

    201 at the first attempt, 100 ms, finished 2024-01-01T00:00:10Z; ``overrides``
    set any other :class:`~bulkops.model.ItemResult` field.
    """
    fields: dict[str, Any] = {
        "line": line,
        "op": "attach",
        "service_sid": mg(1),
        "sender_sid": sc(line),
        "outcome": Outcome.SUCCEEDED,
        "detail": Detail.ATTACHED,
        "http_status": 201,
        "attempts": 1,
        "elapsed_ms": 100.0,
        "finished_at": "2024-01-01T00:00:10.000Z",
    }
    fields.update(overrides)
    return ItemResult(**fields)


def record(line: int = 2, **overrides: Any) -> dict[str, Any]:
    """:func:`result` as the journal writes it: one result log record."""
    return result(line, **overrides).to_record()


def write_log(path: Path, records: Iterable[dict[str, Any]], tail: str = "") -> Path:
    """A result log at ``path``: one JSON line per record, then ``tail`` (a torn line, say)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")
    return path


# --- Random choices that can be replayed ---------------------------------------------

#: The environment variable that fixes :func:`replayable_seed`.
SEED_VARIABLE = "BULKOPS_TEST_SEED"


def replayable_seed() -> int:
    """A seed for a test's random choices: ``$BULKOPS_TEST_SEED`` if set, else a fresh one.

    It is printed (pytest shows a failing test's output), so any failure can be
    replayed with ``BULKOPS_TEST_SEED=<seed> pytest …``. Put it in the test's
    assertion messages too.
    """
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    try:
        seed = int(raw) if raw else random.SystemRandom().randrange(2**32)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be an integer, got {raw!r}") from None
    print(f"{SEED_VARIABLE}={seed}")
    return seed


__all__ = [
    "SEED_VARIABLE",
    "FakeClock",
    "SkippingClock",
    "VirtualClockLoop",
    "ai",
    "mg",
    "pn",
    "record",
    "replayable_seed",
    "result",
    "run_virtual",
    "sc",
    "write_log",
]


# --- A host that never answers --------------------------------------------------------


@asynccontextmanager
async def silent_listener() -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    """A loopback port that accepts every connection and never writes to it.

    Yields the port and the connections accepted so far (held open until the end).
    """
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
