"""The call loop's own count of this run's calls at Twilio, on a virtual clock.

What the account-limit controller is told as ``mine`` (and, after a 429, as the
calls still out) must be the calls sent and not yet answered: a call holding a
window slot while it waits for the rate gate is not at Twilio yet.
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
