"""Each call's timeout, kept by one sweep: which calls it cancels, and whose cancellation it is."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from support import FakeClock

from bulkops.errors import TransportError
from bulkops.model import Op, SenderKind
from bulkops.twilio.client import TwilioClient
from bulkops.twilio.deadlines import SWEEP_S, CallDeadlines
from bulkops.twilio.network import NetworkCause
from bulkops.twilio.wire import build_request

MG = "MG" + "1" * 32
SC = "SC" + "2" * 32


async def call(deadlines: CallDeadlines, release: asyncio.Event) -> str:
    """What a client's send does with its deadline: ``timed out`` or ``answered``."""
    deadline = deadlines.start()
    try:
        await release.wait()
    except asyncio.CancelledError:
        if not deadline.passed():
            raise
        return "timed out"
    finally:
        deadline.end()
    return "answered"


async def hanging(deadlines: CallDeadlines) -> asyncio.Task[str]:
    """A call that never gets an answer, started (its deadline taken) before this returns."""
    task = asyncio.create_task(call(deadlines, asyncio.Event()))
    await asyncio.sleep(0)
    return task


@pytest.mark.asyncio
async def test_a_call_is_cancelled_at_its_deadline_and_not_before() -> None:
    clock = FakeClock()
    deadlines = CallDeadlines(10.0, clock=clock)
    slow = await hanging(deadlines)
    clock.advance(9.999)
    deadlines.sweep()
    await asyncio.sleep(0)
    assert not slow.done()
    clock.advance(0.001)
    deadlines.sweep()
    assert await slow == "timed out"
    assert slow.cancelling() == 0  # the cancellation was taken back, not left counted
    assert len(deadlines) == 0
    deadlines.close()


@pytest.mark.asyncio
async def test_calls_that_ended_are_dropped_never_cancelled() -> None:
    clock = FakeClock()
    deadlines = CallDeadlines(5.0, clock=clock)
    release = asyncio.Event()
    quick = [asyncio.create_task(call(deadlines, release)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*quick) == ["answered"] * 3
    late = await hanging(deadlines)
    clock.advance(5.0)  # every one of them is past its deadline now
    deadlines.sweep()
    assert await late == "timed out"  # only the call still running was cancelled
    assert len(deadlines) == 0
    deadlines.close()


@pytest.mark.asyncio
async def test_a_later_call_waits_for_its_own_deadline() -> None:
    """Deadlines fall due in start order: the sweep stops at the first one not due."""
    clock = FakeClock()
    deadlines = CallDeadlines(2.0, clock=clock)
    first = await hanging(deadlines)
    clock.advance(1.5)
    second = await hanging(deadlines)
    clock.advance(0.5)
    deadlines.sweep()
    assert await first == "timed out"
    assert not second.done()
    assert len(deadlines) == 1
    clock.advance(1.5)
    deadlines.sweep()
    assert await second == "timed out"
    deadlines.close()


@pytest.mark.asyncio
async def test_a_stop_that_comes_with_the_deadline_still_propagates() -> None:
    """The task cancelled by the run stopping too: the CancelledError is not a timeout."""
    clock = FakeClock()
    deadlines = CallDeadlines(1.0, clock=clock)
    running = await hanging(deadlines)
    clock.advance(1.0)
    deadlines.sweep()
    running.cancel()  # the run stopping, in the same turn
    with pytest.raises(asyncio.CancelledError):
        await running
    deadlines.close()


@pytest.mark.asyncio
async def test_a_call_already_being_cancelled_is_left_to_that_cancellation() -> None:
    """The run stopping first, the deadline after: no second cancel, and no timeout."""
    clock = FakeClock()
    deadlines = CallDeadlines(1.0, clock=clock)
    running = await hanging(deadlines)
    running.cancel()
    clock.advance(1.0)
    deadlines.sweep()
    assert running.cancelling() == 1  # only the run's own
    with pytest.raises(asyncio.CancelledError):
        await running
    deadlines.close()


@pytest.mark.asyncio
async def test_a_swallowed_deadline_cancel_is_taken_back_when_the_call_ends() -> None:
    clock = FakeClock()
    deadlines = CallDeadlines(1.0, clock=clock)
    task_cancelling: list[int] = []

    async def swallowing() -> None:
        deadline = deadlines.start()
        try:
            with contextlib.suppress(asyncio.CancelledError):  # as a library might
                await asyncio.Event().wait()
        finally:
            deadline.end()
        task = asyncio.current_task()
        assert task is not None
        task_cancelling.append(task.cancelling())

    running = asyncio.create_task(swallowing())
    await asyncio.sleep(0)
    clock.advance(1.0)
    deadlines.sweep()
    await running
    assert task_cancelling == [0]
    deadlines.close()


@pytest.mark.asyncio
async def test_no_timeout_means_no_deadline() -> None:
    deadlines = CallDeadlines(None)
    release = asyncio.Event()
    running = asyncio.create_task(call(deadlines, release))
    await asyncio.sleep(0)
    deadlines.sweep()
    assert len(deadlines) == 0
    release.set()
    assert await running == "answered"


@pytest.mark.asyncio
async def test_the_sweep_runs_on_the_loop_within_a_second() -> None:
    """Without a test's hand: the loop's timer sweeps (at most ``SWEEP_S`` apart)."""
    deadlines = CallDeadlines(0.05)
    assert SWEEP_S >= 0.05
    assert await call(deadlines, asyncio.Event()) == "timed out"
    deadlines.close()


def hanging_app(held: list[web.Request], arrived: asyncio.Event) -> web.Application:
    async def hang(request: web.Request) -> web.Response:
        held.append(request)
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("never answered")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    return app


@pytest.mark.asyncio
@pytest.mark.parametrize(("op", "maybe_applied"), [(Op.ATTACH, True), (Op.FETCH, False)])
async def test_a_call_with_no_answer_in_time_is_timed_out(op: Op, maybe_applied: bool) -> None:
    """Through aiohttp: a write past its deadline may have been applied; a read is just late."""
    held: list[web.Request] = []
    async with TestServer(hanging_app(held, asyncio.Event()), host="127.0.0.1", port=0) as server:
        base_url = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as session:
            client = TwilioClient(session, base_url, timeout_s=0.2)
            request = build_request(op, SenderKind.SHORT_CODE, MG, SC)
            with pytest.raises(TransportError) as caught:
                await client.send(request)
    assert (caught.value.cause, caught.value.maybe_applied) == (
        NetworkCause.TIMED_OUT,
        maybe_applied,
    )
    assert caught.value.message.endswith(": timed out")
    assert len(held) == 1


@pytest.mark.asyncio
async def test_a_call_cancelled_by_its_caller_is_not_a_timeout() -> None:
    held: list[web.Request] = []
    arrived = asyncio.Event()
    async with TestServer(hanging_app(held, arrived), host="127.0.0.1", port=0) as server:
        base_url = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as session:
            client = TwilioClient(session, base_url, timeout_s=30)
            request = build_request(Op.ATTACH, SenderKind.SHORT_CODE, MG, SC)
            sending = asyncio.create_task(client.send(request))
            await arrived.wait()
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
