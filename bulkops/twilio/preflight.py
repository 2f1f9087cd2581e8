"""The one read before the first write: it proves credentials, DNS, proxy and TLS.

``GET /v1/Services/{Sid}`` of the job's first service. Any HTTP answer proves the
connection (a 404 only says the service does not exist, which the run then
judges row by row); a 401 or a failure to reach the host stops the run at once,
with one line that names the host, the cause and what to do, before anything
is sent or recorded.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Protocol

from ..egress import Egress
from ..errors import ApiError, AuthenticationError, PermanentError, RunAborted, TransportError
from ..retry import Backoff
from .network import unreachable
from .wire import Reply, Request, service_request


class Sends(Protocol):
    """What the pre-flight needs of a client: :class:`~bulkops.twilio.TwilioClient` is one."""

    #: ``host:port`` of the API, as messages name it.
    host: str

    async def send(self, request: Request) -> Reply: ...


async def prove_connection(  # noqa: PLR0913 - keyword-only; each is an independent choice
    client: Sends,
    service_sid: str,
    *,
    egress: Egress,
    backoff: Backoff,
    sleep: Callable[[float], Awaitable[object]],
    rand: Callable[[], float] = random.random,
) -> bool | None:
    """Whether ``service_sid`` exists (True, or False on 404); None when another answer came.

    A timeout is retried as ``backoff`` says (waiting with ``sleep``, jitter from
    ``rand``). Raises :class:`~bulkops.errors.Unreachable` for a name that does not
    resolve, a refused connection, an untrusted certificate, a refusing proxy (at
    once), or timeouts past ``backoff.max_attempts``; :class:`RunAborted` for a 401.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            await client.send(service_request(service_sid))
        except AuthenticationError as exc:
            raise RunAborted.bad_credentials(exc.code, host=client.host) from None
        except TransportError as exc:
            if exc.cause.unreachable or not backoff.should_retry(attempt, exc):
                raise unreachable(exc, host=client.host, egress=egress) from None
            await sleep(backoff.delay_s(attempt, rand=rand()))
        except PermanentError as exc:
            return False if exc.status == 404 else None
        except ApiError:
            return None  # 429 or 5xx: an answer, so the connection works
        else:
            return True


__all__ = ["Sends", "prove_connection"]
