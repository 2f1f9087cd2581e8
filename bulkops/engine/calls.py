"""One API call, as the engine makes it: through the limits, retried while transient.

:class:`CallLoop` owns the run's loop-bound throttles (the rate gate, the
concurrency window and the controller that retunes it from Twilio's count of
the account's requests in flight, AIMD without it), the backoff policy and the
trace of the limit over the run, so it is built inside the running loop, once
per run.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import RunConfig
from ..errors import ApiError, AuthenticationError, RunAborted, ThrottledError, TransientError
from ..retry import Backoff
from ..twilio.wire import Request
from .adaptive import AimdSettings, Ticket
from .inflight import InFlightController, InFlightSettings
from .limits import ConcurrencyWindow, RateGate
from .ports import EngineHooks, SenderApi
from .records import CallReport
from .trace import LimitTrace

#: Slow start from here (the default --concurrency): a run that asks for no more
#: starts at full width; a bolder one probes up from there.
SLOW_START_LIMIT = 16
#: The AIMD cut on a 429 and the first engine-wide pause (about one round trip);
#: tuned with the benchmark's throttling scenario (see benchmarks/README.md).
DECREASE_FACTOR = 0.85
FIRST_PAUSE_S = 0.02


class Abandoned(Exception):
    """The run is stopping and this call gave up before it started; the row gets no record."""


class CallLoop:
    """Makes calls for the engine's workers; see :meth:`call`."""

    def __init__(
        self,
        api: SenderApi,
        config: RunConfig,
        *,
        hooks: EngineHooks,
        monotonic: Callable[[], float],
        stopping: Callable[[], bool],
    ) -> None:
        self._api = api
        self._log = hooks.log
        self._sleep = hooks.clock.sleep
        self._rand = hooks.clock.rand
        self._monotonic = monotonic
        self._observer = hooks.observer
        self._stopping = stopping
        self._backoff = Backoff(
            initial_s=config.backoff_initial_s,
            cap_s=config.backoff_cap_s,
            max_attempts=config.max_attempts,
        )
        self.gate = RateGate(config.rate_per_s)
        self._gated = config.rate_per_s > 0
        first_pause_s = min(FIRST_PAUSE_S, config.backoff_cap_s)
        self.throttle = InFlightController(
            config.concurrency,
            clock=monotonic,
            aimd_settings=AimdSettings(
                initial_limit=min(config.concurrency, SLOW_START_LIMIT),
                decrease_factor=DECREASE_FACTOR,
                pause_initial_s=first_pause_s,
                pause_cap_s=config.backoff_cap_s,
            ),
            settings=InFlightSettings(
                pause_initial_s=first_pause_s, pause_cap_s=config.backoff_cap_s
            ),
        )
        self.window = ConcurrencyWindow(self.throttle.limit)
        #: The limit and the account's count over the run, for the summary.
        self.trace = LimitTrace(monotonic())
        self._account_shown: tuple[int | None, int | None] = (None, None)

    async def call(
        self, request: Request, line: int, *, abandonable: bool = True, read_body: bool = False
    ) -> CallReport:
        """Send ``request`` until it succeeds, fails for good or runs out of attempts.

        The reply's body is parsed only when ``read_body`` (a fetch needs it).

        Waits for a window slot, any engine-wide pause and the rate gate before
        each attempt. Once the run is stopping, an ``abandonable`` call raises
        :class:`Abandoned` instead of starting or retrying: nothing changed, and
        a resume makes it again. Raises :class:`RunAborted` on a 401.
        """
        throttle, window, monotonic = self.throttle, self.window, self._monotonic
        attempt = throttled = 0
        started = 0.0
        while True:
            attempt += 1
            async with window:
                if self._gated or throttle.paused_until > monotonic():
                    await self._wait_turn()
                if abandonable and self._stopping():
                    raise Abandoned  # stopped while it waited: the call never starts
                ticket = throttle.on_start(window.in_flight)
                started = ticket.started_s if attempt == 1 else started
                try:
                    reply = await self._api.send(request, read_body=read_body)
                except AuthenticationError as exc:
                    raise RunAborted.bad_credentials(exc.code) from None
                except ApiError as exc:
                    error = exc
                    self._observe(ticket, exc)
                else:  # the account let it in: the common path, kept short
                    moved = throttle.on_answer(ticket, reply.account_in_flight)
                    if moved or monotonic() >= self.trace.due_s:
                        self._watch(moved)
                    return CallReport(reply, None, attempt, throttled, started)
            throttled += isinstance(error, ThrottledError)
            if not self._backoff.should_retry(attempt, error):
                return CallReport(None, error, attempt, throttled, started)
            if abandonable and self._stopping():
                raise Abandoned
            await self._wait_to_retry(request, line, attempt, error)

    async def _wait_turn(self) -> None:
        """Wait out any engine-wide pause, then for the rate gate."""
        while (pause_s := self.throttle.pause_remaining_s()) > 0:
            await self._sleep(pause_s)  # the whole engine backs off together
        await self.gate.acquire()

    async def _wait_to_retry(
        self, request: Request, line: int, attempt: int, error: ApiError
    ) -> None:
        if isinstance(error, ThrottledError):
            # The window already fits the account (and the engine pauses when it
            # has no room at all); this call waits what Twilio asked, if it asked,
            # then queues again for a slot: no backoff of its own.
            asked_s = min(error.retry_after_s or 0.0, self._backoff.cap_s)
            wait_s = max(asked_s, self.throttle.pause_remaining_s())
        else:
            wait_s = self._backoff.delay_s(
                attempt, rand=self._rand(), retry_after_s=error.retry_after_s
            )
        self._log.debug(
            "bulkops.item.retry",
            line=line,
            method=request.method,
            attempt=attempt,
            status=error.status,
            code=error.code,
            wait_s=round(wait_s, 3),
        )
        await self._sleep(wait_s)

    def _observe(self, ticket: Ticket, error: ApiError) -> None:
        """Tell the controller how a call that raised went; then :meth:`_watch`.

        A 4xx is an answer like any: the account let the call in. 5xx and network
        errors change nothing: they say the server or the network failed, not that
        the account has too much in flight.
        """
        throttle = self.throttle
        if isinstance(error, ThrottledError):
            self.trace.throttled += 1
            moved = throttle.on_throttle(ticket, error.account_in_flight, error.retry_after_s)
        elif isinstance(error, TransientError):
            return
        else:
            moved = throttle.on_answer(ticket, error.account_in_flight)
        self._watch(moved)

    def _watch(self, moved: bool) -> None:
        """Retune the window if the limit ``moved``; sample the trace; tell the observer.

        Called after every move of the limit and at least as often as the trace
        samples (ten times a second): the progress display needs no more.
        """
        throttle = self.throttle
        limit, account_limit, in_flight = (
            throttle.limit, throttle.account_limit, throttle.account_in_flight
        )  # fmt: skip
        self.trace.sample(self._monotonic(), limit, account_limit, in_flight)
        if (in_flight, account_limit) != self._account_shown:
            self._account_shown = (in_flight, account_limit)
            self._observer.on_account(in_flight, account_limit)
        if not moved:
            return
        before = self.window.limit
        self.window.retune(limit)
        self._log.debug(
            "bulkops.throttle.increased" if limit > before else "bulkops.throttle.decreased",
            limit=limit,
            account_limit=account_limit,
            account_in_flight=in_flight,
            pause_s=round(throttle.pause_remaining_s(), 3),
        )
        self._observer.on_limit(limit)

    def finish_trace(self) -> LimitTrace:
        """The trace with its closing point at now: the run is over."""
        throttle = self.throttle
        self.trace.finish(
            self._monotonic(), throttle.limit, throttle.account_limit, throttle.account_in_flight
        )
        return self.trace
