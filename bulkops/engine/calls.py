"""One API call, as the engine makes it: through the limits, retried while transient.

:class:`CallLoop` owns the run's loop-bound throttles (the rate gate, the
concurrency window and the controller that retunes it from Twilio's count of
the account's requests in flight, AIMD without it), the backoff policy, the
stop when the network is gone and the trace of the limit over the run, so it is
built inside the running loop, once per run.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import RunConfig
from ..errors import (
    ApiError,
    AuthenticationError,
    RunAborted,
    ThrottledError,
    TransientError,
    TransportError,
)
from ..retry import Backoff
from ..twilio.wire import Request
from .adaptive import AimdSettings, Ticket
from .inflight import InFlightController, InFlightSettings
from .limits import ConcurrencyWindow, RateGate, StartSpacing
from .ports import EngineHooks, SenderApi
from .records import CallReport
from .trace import LimitTrace

#: The network is gone when, for this many seconds and at least :data:`OUTAGE_CALLS`
#: calls, every call failed before reaching the API (DNS, refused, TLS, proxy) and
#: none got an answer: the run stops (exit 3, resumable) instead of spending
#: ``--max-attempts`` on every row.
OUTAGE_S = 10.0
OUTAGE_CALLS = 3

_INFLIGHT_DEFAULTS = InFlightSettings()


class Abandoned(Exception):
    """The run is stopping and this call gave up before it started; the row gets no record."""


class Withheld(Exception):
    """The call's ``withhold`` said no right before it was sent (e.g. its service is full).

    Raised before the first attempt only: nothing was sent.
    """


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
        # The AIMD fallback keeps its own (the engine's) defaults; both pauses stop
        # at the backoff's cap.
        first_pause_s = min(_INFLIGHT_DEFAULTS.pause_initial_s, config.backoff_cap_s)
        self.throttle = InFlightController(
            config.concurrency,
            clock=monotonic,
            aimd_settings=AimdSettings(pause_cap_s=config.backoff_cap_s),
            settings=InFlightSettings(
                pause_initial_s=first_pause_s, pause_cap_s=config.backoff_cap_s
            ),
        )
        self.window = ConcurrencyWindow(self.throttle.limit)
        #: The limit and the account's count over the run, for the summary.
        self.trace = LimitTrace(monotonic())
        self._account_shown: tuple[int | None, int | None] = (None, None)
        #: Since when every call failed before reaching the API, and how many did.
        self._unreachable_since: float | None = None
        self._unreachable_calls = 0
        #: Calls sent and not yet answered: what Twilio may be counting of ours (a call
        #: holding a window slot may still be waiting for the rate gate or a pause).
        self._sent = 0
        #: The paced calls' start times (the monotonic clock's seconds).
        self._spacing = StartSpacing()

    async def call(
        self,
        request: Request,
        line: int,
        *,
        abandonable: bool = True,
        withhold: Callable[[], bool] | None = None,
        read_body: bool = True,
    ) -> CallReport:
        """Send ``request`` until it succeeds, fails for good or runs out of attempts.

        The reply's body is parsed only when ``read_body`` (a row whose answer is
        not read, e.g. a detach, saves the parse).

        Waits for a window slot, any engine-wide pause and the rate gate before
        each attempt. Once the run is stopping, an ``abandonable`` call raises
        :class:`Abandoned` instead of starting or retrying: nothing changed, and
        a resume makes it again. ``withhold`` is asked after those waits, right
        before the first attempt is sent: True raises :class:`Withheld` (what was
        learnt while the call waited, e.g. that its service is full, makes it
        pointless). Raises :class:`RunAborted` on a 401, and when the network is
        gone (see :data:`OUTAGE_S`). A write whose attempt may have been applied
        without an answer is marked in the report (``ambiguous_at``).
        """
        throttle, window, monotonic = self.throttle, self.window, self._monotonic
        attempt = throttled = 0
        started = 0.0
        ambiguous_at: float | None = None
        while True:
            attempt += 1
            async with window:
                if self._gated or throttle.pace_s or throttle.paused_until > monotonic():
                    await self._wait_turn()
                self._check_start(abandonable, withhold if attempt == 1 else None)
                self._sent += 1
                ticket = throttle.on_start(self._sent)
                started = ticket.started_s if attempt == 1 else started
                try:
                    try:  # not a helper coroutine: a frame per call showed in the profile
                        reply = await self._api.send(request, read_body=read_body)
                    finally:
                        self._sent -= 1
                except AuthenticationError as exc:
                    raise RunAborted.bad_credentials(exc.code) from None
                except ApiError as exc:
                    error = exc
                    self._observe(ticket, exc)
                else:  # the account let it in: the common path, kept short
                    self._unreachable_since = None
                    moved = throttle.on_answer(ticket, reply.account_in_flight)
                    if moved or monotonic() >= self.trace.due_s:
                        self._watch(moved)
                    return CallReport(reply, None, attempt, throttled, started, ambiguous_at)
            throttled += isinstance(error, ThrottledError)
            ambiguous_at = self._after_failure(error, ambiguous_at)
            if not self._backoff.should_retry(attempt, error):
                return CallReport(None, error, attempt, throttled, started, ambiguous_at)
            if abandonable and self._stopping():
                raise Abandoned
            await self._wait_to_retry(request, line, attempt, error)

    def _check_start(self, abandonable: bool, withhold: Callable[[], bool] | None) -> None:
        """Right before an attempt is sent, after its waits: raise if it must not start."""
        if abandonable and self._stopping():
            raise Abandoned  # stopped while it waited: the call never starts
        if withhold is not None and withhold():
            raise Withheld  # what was learnt while it waited makes it pointless

    async def _wait_turn(self) -> None:
        """Wait out any engine-wide pause, then for the rate gate, then for this call's pace.

        Paced (:attr:`InFlightController.pace_s`), each call takes the next start
        time, ``pace_s`` after the one taken before it, and waits for it.
        """
        while (pause_s := self.throttle.pause_remaining_s()) > 0:
            await self._sleep(pause_s)  # the whole engine backs off together
        await self.gate.acquire()
        if pace_s := self.throttle.pace_s:
            wait_s = self._spacing.wait_s(self._monotonic(), pace_s)
            if wait_s > 0:
                await self._sleep(wait_s)

    def _after_failure(self, error: ApiError, ambiguous_at: float | None) -> float | None:
        """The new ``ambiguous_at``: now if ``error`` may have been applied, else unchanged.

        Raises :class:`RunAborted` once every call has failed unanswered (before
        reaching the API) for :data:`OUTAGE_S` seconds: the network is gone.
        """
        now = self._monotonic()
        if not isinstance(error, TransportError):
            self._unreachable_since = None  # an answer: the API is reachable
            return ambiguous_at
        if not error.cause.unreachable:
            return now if error.maybe_applied else ambiguous_at
        if self._unreachable_since is None:
            self._unreachable_since, self._unreachable_calls = now, 0
        self._unreachable_calls += 1
        stretch_s = now - self._unreachable_since
        if stretch_s >= OUTAGE_S and self._unreachable_calls >= OUTAGE_CALLS:
            raise RunAborted(
                f"the network is gone: every call for {stretch_s:.0f} s failed before reaching "
                f"the API ({error.message}); resume when it is back"
            )
        return ambiguous_at

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
            moved = throttle.on_throttle(
                ticket,
                error.account_in_flight,
                error.retry_after_s,
                in_flight=self._sent,  # answered: no longer counted
            )
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
