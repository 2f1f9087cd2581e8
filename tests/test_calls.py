"""The call loop on a virtual clock: its own count of this run's calls at Twilio, its pace.

What the account-limit controller is told as ``mine`` (and, after a 429, as the
calls still out) must be the calls sent and not yet answered: a call holding a
window slot while it waits for the rate gate is not at Twilio yet. Once the
controller paces, call starts are that far apart.
"""

from __future__ import annotations

import asyncio
import io

from support import mg, run_virtual

from bulkops.config import RunConfig
from bulkops.engine import EngineHooks
from bulkops.engine.adaptive import Ticket
from bulkops.engine.calls import CallLoop
from bulkops.logs import make_logger
from bulkops.twilio.wire import Reply, Request, service_request

HOLD_S = 1.0  # each call is answered this long after it is sent


class SlowApi:
    """Answers every call ``HOLD_S`` after it was sent, with no concurrency header."""

    async def send(self, request: Request, *, read_body: bool = True) -> Reply:
        await asyncio.sleep(HOLD_S)
        return Reply(200, {}, None)


def starts(config: RunConfig, calls_made: int, *, pace_s: float = 0.0) -> list[float]:
    """When each of ``calls_made`` calls, all started at once, was sent (loop seconds, to 1 ms).

    ``pace_s`` is set on the controller as it would set it once the limit is known.
    """

    async def send_all() -> list[float]:
        hooks = EngineHooks(log=make_logger(stream=io.StringIO()))
        loop = asyncio.get_running_loop()
        calls = CallLoop(
            SlowApi(), config, hooks=hooks, monotonic=loop.time, stopping=lambda: False
        )
        calls.throttle.pace_s = pace_s
        sent: list[float] = []
        start = calls.throttle.on_start

        def spy(mine: int) -> Ticket:
            sent.append(loop.time())
            return start(mine)

        calls.throttle.on_start = spy  # type: ignore[method-assign]
        request = service_request(mg(1))
        origin = loop.time()
        await asyncio.gather(*(calls.call(request, line) for line in range(2, 2 + calls_made)))
        return [round(t - origin, 3) for t in sent]

    return run_virtual(send_all())


def test_paced_calls_start_pace_s_apart() -> None:
    """Four calls with four slots free and no --rate, paced at 0.1 s: sent 0.1 s apart."""
    assert starts(RunConfig(rate_per_s=0, concurrency=4), 4, pace_s=0.1) == [0.0, 0.1, 0.2, 0.3]


def test_unpaced_calls_start_together() -> None:
    """The same four calls, not paced: all sent at once."""
    assert starts(RunConfig(rate_per_s=0, concurrency=4), 4) == [0.0, 0.0, 0.0, 0.0]


def test_the_pace_never_lets_more_than_the_window_out() -> None:
    """Two slots, paced at 0.1 s, answers after 1 s: the third call waits for a slot."""
    assert starts(RunConfig(rate_per_s=0, concurrency=2), 3, pace_s=0.1) == [0.0, 0.1, 1.0]


def test_calls_waiting_for_the_rate_gate_are_not_counted_as_sent() -> None:
    """Four calls take the four window slots at once; --rate 10 sends one every 0.1 s.

    Each is told to the controller with the calls sent before it, not the four
    slots taken: 1, 2, 3, 4 (counting window slots said 4 every time).
    """

    async def send_four() -> list[int]:
        config = RunConfig(rate_per_s=10.0, concurrency=4)
        hooks = EngineHooks(log=make_logger(stream=io.StringIO()))
        loop = asyncio.get_running_loop()
        calls = CallLoop(
            SlowApi(), config, hooks=hooks, monotonic=loop.time, stopping=lambda: False
        )
        told: list[int] = []
        start = calls.throttle.on_start

        def spy(mine: int) -> Ticket:
            told.append(mine)
            return start(mine)

        calls.throttle.on_start = spy  # type: ignore[method-assign]
        request = service_request(mg(1))
        await asyncio.gather(*(calls.call(request, line) for line in range(2, 6)))
        return told

    assert run_virtual(send_four()) == [1, 2, 3, 4]
