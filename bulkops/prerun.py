"""Before a run's first write: prove the connection, then resolve the numbers the job names.

:func:`get_ready` is what :func:`bulkops.run.run_job` does with its client
before it opens the result log, in this order:

1. **The pre-flight read** (:func:`~bulkops.twilio.preflight.prove_connection`):
   ``GET /v1/Services/{Sid}`` of the first valid row's service proves credentials,
   DNS, proxy and TLS before any other call; what it says of that service is kept
   for the engine's "does this service exist" check.
2. **Numbers to SIDs** (:mod:`bulkops.resolve`): the account's listings, through
   the same client (the 2010 API's host, with the same proxy and CA bundle), each
   call under the run's ``--rate`` (:class:`PacedPages`) and counted
   (:attr:`Ready.listing_calls`). A job of SIDs and alpha senders costs no call.

Either raises :class:`~bulkops.errors.RunAborted` (for the pre-flight, its
:class:`~bulkops.errors.Unreachable`) when it cannot reach the API, gets a 401
or fails for good: the run then stops with nothing sent or recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import Credentials, RunConfig
from .egress import Egress
from .engine import EngineClock, EngineHooks, StartSpacing
from .jobs import Job
from .model import InvalidRow, Row
from .resolve import Resolution, numbers_named, resolve_numbers
from .retry import Backoff

if TYPE_CHECKING:
    from .twilio.client import TwilioClient
    from .twilio.listing import PageApi
    from .twilio.wire import Listed, Resource


@dataclass(frozen=True, slots=True)
class Ready:
    """What a run knows before its first write."""

    #: The job's rows, each number it names replaced by its SID where the account has it.
    rows: Iterable[Row | InvalidRow]
    #: Services the pre-flight read, and whether they exist (empty if it said neither).
    services: dict[str, bool]
    #: The pass over the job file that ``rows`` reads from.
    source: Generator[Row | InvalidRow, None, None]
    #: Listing calls made to resolve the numbers (each attempt counted; 0: none named).
    listing_calls: int = 0

    def close(self) -> None:
        """Close the job file, whether ``rows`` was read to its end or not."""
        self.source.close()


async def get_ready(
    client: TwilioClient, job: Job, config: RunConfig, credentials: Credentials, hooks: EngineHooks
) -> Ready:
    """The pre-flight read, then the numbers resolved (see the module docstring).

    ``credentials.account_sid`` is the account whose numbers are listed; ``hooks``
    give the clock the retries wait on and the log. Raises :class:`RunAborted`.
    """
    services = await _prove(client, job, config, hooks)
    paced = PacedPages(client, config.rate_per_s, hooks.clock)
    resolution = await _resolution(paced, job, config, credentials, hooks)
    await paced.finish()
    source = job.rows()
    rows = source if resolution is None else resolution.rows(source)
    return Ready(rows, services, source, listing_calls=paced.calls)


class PacedPages:
    """List calls at most ``rate_per_s`` a second (0: no limit), counted: a run's ``--rate``.

    Each call (a retried attempt too) takes the next start time before it
    waits, so the filtered GETs that run at once are spaced as the engine's own
    calls are. Times come from the run's clock (``monotonic`` and ``sleep``).
    """

    def __init__(self, api: PageApi, rate_per_s: float, clock: EngineClock) -> None:
        self._api = api
        self._interval_s = 1 / rate_per_s if rate_per_s > 0 else 0.0
        self._sleep = clock.sleep
        self._monotonic = clock.monotonic or asyncio.get_running_loop().time
        self._spacing = StartSpacing()
        #: Calls started so far.
        self.calls = 0

    async def list_page(
        self, url: str, listed: Listed | None = None
    ) -> tuple[list[Resource], str | None]:
        """``api.list_page`` once this call's turn under the rate has come."""
        if self._interval_s:
            wait_s = self._spacing.wait_s(self._monotonic(), self._interval_s)
            if wait_s > 0:
                await self._sleep(wait_s)
        self.calls += 1
        return await self._api.list_page(url, listed)

    async def finish(self) -> None:
        """Wait out the last call's share of the rate, so the run's first call keeps the pace."""
        wait_s = self._spacing.next_s - self._monotonic()
        if wait_s > 0:
            await self._sleep(wait_s)


def _backoff(config: RunConfig) -> Backoff:
    """How the pre-flight read and the listings retry: as the run's calls do."""
    return Backoff(
        initial_s=config.backoff_initial_s,
        cap_s=config.backoff_cap_s,
        max_attempts=config.max_attempts,
    )


async def _prove(
    client: TwilioClient, job: Job, config: RunConfig, hooks: EngineHooks
) -> dict[str, bool]:
    """``{sid: exists}`` of the first valid row's service; {} when there is no valid row
    (nothing will be sent) or the answer says neither (a 429 or 5xx)."""
    from .twilio.preflight import prove_connection  # with the client: no aiohttp at import

    first = next((row.service_sid for row in job.rows() if isinstance(row, Row)), None)
    if first is None:
        return {}
    clock = hooks.clock
    exists = await prove_connection(
        client,
        first,
        egress=config.egress or Egress(),
        backoff=_backoff(config),
        sleep=clock.sleep,
        rand=clock.rand,
    )
    if config.rate_per_s > 0:  # the read was a call: it takes its place under --rate
        await clock.sleep(1 / config.rate_per_s)
    return {} if exists is None else {first: exists}


async def _resolution(
    client: PageApi, job: Job, config: RunConfig, credentials: Credentials, hooks: EngineHooks
) -> Resolution | None:
    """The SIDs of the numbers the job names; None when it names none.

    Costs a pass over the file unless the file can name no number (:attr:`Job.names_numbers`).
    """
    wanted = numbers_named(job.rows()) if job.names_numbers else {}
    if not wanted:
        return None
    from .twilio.listing import AccountLister  # with the client: no aiohttp at import

    clock = hooks.clock
    directory = AccountLister(
        client,
        credentials.account_sid,
        backoff=_backoff(config),
        sleep=clock.sleep,
        rand=clock.rand,
    )
    resolution = await resolve_numbers(wanted, directory)
    hooks.log.info(
        "bulkops.senders.resolved",
        numbers=sum(map(len, wanted.values())),
        found=len(resolution.sids),
        list_calls=directory.pages,
        calls=client.calls if isinstance(client, PacedPages) else directory.pages,
        rate_per_s=config.rate_per_s,
    )
    return resolution


__all__ = ["PacedPages", "Ready", "get_ready"]
