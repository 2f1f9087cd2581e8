"""One API call, as the engine makes it: through the limits, retried while transient.

:class:`CallLoop` owns the run's loop-bound throttles (the rate gate, the
concurrency window and the AIMD controller that retunes it) and the backoff
policy, so it is built inside the running loop, once per run.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import RunConfig
from ..errors import ApiError, AuthenticationError, RunAborted, ThrottledError, TransientError
from ..retry import Backoff
from ..twilio.wire import Request
from .adaptive import AimdController, AimdSettings, Ticket
from .limits import ConcurrencyWindow, RateGate
from .ports import EngineHooks, SenderApi
from .records import CallReport


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
        self.throttle = AimdController(
            config.concurrency,
            clock=monotonic,
            settings=AimdSettings(pause_cap_s=config.backoff_cap_s),
        )
        self.window = ConcurrencyWindow(self.throttle.limit)

    async def call(self, request: Request, line: int, *, abandonable: bool = True) -> CallReport:
        """Send ``request`` until it succeeds, fails for good or runs out of attempts.

        Waits for a window slot, any engine-wide pause and the rate gate before
        each attempt. Once the run is stopping, an ``abandonable`` call raises
        :class:`Abandoned` instead of starting or retrying: nothing changed, and
        a resume makes it again. Raises :class:`RunAborted` on a 401.
        """
        throttle = self.throttle
        attempt = throttled = 0
        started = 0.0
        while True:
            attempt += 1
            async with self.window:
                while (pause_s := throttle.pause_remaining_s()) > 0:
                    await self._sleep(pause_s)  # the whole engine backs off together
                await self.gate.acquire()
                if abandonable and self._stopping():
                    raise Abandoned  # stopped while it waited: the call never starts
                ticket = throttle.on_start()
                if attempt == 1:
                    started = self._monotonic()
                try:
                    reply = await self._api.send(request)
                except AuthenticationError as exc:
                    raise RunAborted.bad_credentials(exc.code) from None
                except ApiError as exc:
                    error = exc
                    self._observe(ticket, exc)
                else:
                    self._observe(ticket, None)
                    return CallReport(reply, None, attempt, throttled, started)
            throttled += isinstance(error, ThrottledError)
            if not self._backoff.should_retry(attempt, error):
                return CallReport(None, error, attempt, throttled, started)
            if abandonable and self._stopping():
                raise Abandoned
            await self._wait_to_retry(request, line, attempt, error)

    async def _wait_to_retry(
        self, request: Request, line: int, attempt: int, error: ApiError
    ) -> None:
        if isinstance(error, ThrottledError):
            # The whole engine has backed off (smaller window, shared pause that
            # holds Retry-After and doubles while 429s keep coming); this call
            # queues again behind that pause instead of a backoff of its own.
            wait_s = self.throttle.pause_remaining_s()
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

    def _observe(self, ticket: Ticket, error: ApiError | None) -> None:
        """Tell the AIMD controller how a call went; retune the window if the limit moved.

        5xx and network errors change nothing: they say the server or the network
        failed, not that the account has too much in flight.
        """
        throttle = self.throttle
        if isinstance(error, ThrottledError):
            if not throttle.on_throttle(ticket, error.retry_after_s):
                return
            event = "bulkops.throttle.decreased"
        elif isinstance(error, TransientError):
            return
        elif throttle.on_success(ticket):  # a 4xx answer too: the account let it in
            event = "bulkops.throttle.increased"
        else:
            return
        self.window.retune(throttle.limit)
        self._log.debug(event, limit=throttle.limit, pause_s=round(throttle.pause_remaining_s(), 3))
        self._observer.on_limit(throttle.limit)
