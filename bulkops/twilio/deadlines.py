"""Each call's timeout, for thousands of calls a second: one timer for them all.

aiohttp's ``ClientTimeout(total=…)``, like ``asyncio.timeout``, arms a timer
handle on the event loop's heap for every request and enters a timer context
on every read. At 5,000 calls a second on loopback that cost about a tenth of a
call's CPU (13 µs of 135 µs, aiohttp 3.14, Python 3.11: a bare aiohttp client
posting to a bare aiohttp server, 64 at once, with and without a total
timeout; the overhead scenario of ``benchmarks/README.md`` shows the effect on
a whole run). Every call a client makes has the
same timeout, so deadlines fall due in the order the calls started: a queue,
swept by one timer at the oldest running call's deadline (and at least once a
second, to drop calls that ended), does the same job for a few list operations
a call.

A call past its deadline has its task cancelled, as ``asyncio.timeout`` does
(unless the task is being cancelled already: the run stopping ends the call
then), and :meth:`Deadline.passed` tells that cancellation from any other: the
caller raises its timeout only for its own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

#: The longest a call that ended stays queued: the sweep runs at least this often.
SWEEP_S = 1.0


#: A deadline's states: the call runs; its task was cancelled for it and has not
#: said so yet; the call ended (or its cancellation was taken back).
_RUNNING, _EXPIRED, _DONE = 0, 1, 2


class Deadline:
    """One running call's deadline; see :meth:`CallDeadlines.start`."""

    __slots__ = ("_task", "at_s", "state")

    def __init__(self, at_s: float, task: asyncio.Task[object] | None) -> None:
        #: When the call is out of time (the event loop's clock, seconds).
        self.at_s = at_s
        #: Running, expired (cancelled, not yet heard) or done; the sweep drops all but running.
        self.state = _RUNNING
        self._task = task

    def expire(self) -> None:
        """Cancel the call's task: its time is up (the sweep calls this).

        Not when the task is being cancelled already (the run stopping): that
        cancellation ends the call, and it is not a timeout.
        """
        task = self._task
        if self.state == _RUNNING and task is not None and not task.cancelling():
            self.state = _EXPIRED
            task.cancel()

    def passed(self) -> bool:
        """True when the ``CancelledError`` the caller caught is this deadline's alone.

        Takes the cancellation back (``Task.uncancel``), so the caller raises its
        timeout instead; False when the call is not out of time or something else
        is cancelling the task too (then the ``CancelledError`` must propagate).
        """
        if self.state != _EXPIRED or self._task is None:
            return False
        self.state = _DONE
        return self._task.uncancel() == 0

    def end(self) -> None:
        """The call ended (answered, failed or cancelled): the sweep leaves it be.

        A cancellation this deadline made that never reached the caller (swallowed
        on the way) is taken back, so the task is not left counted as cancelling.
        """
        if self.state == _EXPIRED and self._task is not None:
            self._task.uncancel()
        self.state = _DONE


#: The deadline of every call of a client without a timeout of its own: it never passes.
_NO_DEADLINE = Deadline(float("inf"), None)


class CallDeadlines:
    """Gives each call started in a task a deadline ``timeout_s`` later (None: no deadline).

    ``clock`` (seconds) is the running loop's own unless a test gives one; the
    sweep's timer is the loop's. Not thread-safe; one event loop. :meth:`close`
    stops the sweep.
    """

    __slots__ = ("_calls", "_clock", "_loop", "_timeout_s", "_timer")

    def __init__(
        self, timeout_s: float | None, *, clock: Callable[[], float] | None = None
    ) -> None:
        self._timeout_s = timeout_s
        self._clock = clock
        self._calls: deque[Deadline] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        """Calls queued: running, or ended since the last sweep."""
        return len(self._calls)

    def start(self) -> Deadline:
        """The deadline of a call the current task starts now.

        Call :meth:`Deadline.end` when the call ends, however it ends; when
        the time is up first, the task is cancelled (see :meth:`Deadline.passed`).
        """
        if self._timeout_s is None:
            return _NO_DEADLINE
        loop = self._loop or self._bind()
        now = self._clock() if self._clock is not None else loop.time()
        deadline = Deadline(now + self._timeout_s, asyncio.current_task(loop))
        self._calls.append(deadline)
        if self._timer is None:
            self._timer = loop.call_later(min(self._timeout_s, SWEEP_S), self._on_timer)
        return deadline

    def close(self) -> None:
        """Stop the sweep; calls started later get deadlines again."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._calls.clear()
        self._loop = None

    def _bind(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    def _on_timer(self) -> None:
        self._timer = None
        self.sweep()

    def sweep(self) -> None:
        """Expire the calls out of time, drop those that ended; come back at the next deadline.

        The timer calls it; a test may too, after moving its clock.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = self._loop
        if loop is None:
            return
        now, calls = self._clock() if self._clock is not None else loop.time(), self._calls
        while calls and (calls[0].state or calls[0].at_s <= now):
            calls.popleft().expire()
        if calls:
            wait_s = min(calls[0].at_s - now, SWEEP_S)
            self._timer = loop.call_later(wait_s, self._on_timer)


__all__ = ["SWEEP_S", "CallDeadlines", "Deadline"]
