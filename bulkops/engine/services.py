"""What a run learns about its Messaging Services: which exist, and which are full.

* **Existence.** Twilio answers 404 both for "this sender is not in this service"
  and for "there is no such service". After a 404 on a detach or a fetch, the
  service is read once (``GET /v1/Services/{Sid}``) and the answer kept for the
  run; the pre-flight read gives the first one.
* **Full pools.** Once a service answers 412/21714 (its pool holds its limit of
  senders), later attaches to it would only fail the same way: they are not
  sent until a detach from that service succeeds in the same run. The limit
  counts the kinds that are in the sender pool (phone numbers and short codes
  together, :attr:`~bulkops.kinds.KindSpec.in_sender_pool`); an alpha sender
  is neither held back by it nor frees room when detached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ..model import Op, SenderKind
from ..twilio.codes import TwilioCode
from ..twilio.wire import service_request
from .calls import CallLoop
from .records import CallReport


class ServiceFacts:
    """The run's knowledge of its services; one per run, shared by every worker.

    ``known`` maps service SIDs already read (e.g. by the pre-flight) to whether
    they exist. Memory: one entry per service asked about or found full.
    """

    def __init__(self, calls: CallLoop, known: Mapping[str, bool] | None = None) -> None:
        self._calls = calls
        self._exists: dict[str, bool] = dict(known or {})
        self._asking: dict[str, asyncio.Lock] = {}
        self._full: set[str] = set()

    async def exists(
        self, service_sid: str, line: int, *, abandonable: bool = True
    ) -> tuple[bool | None, CallReport | None]:
        """Whether the service exists, and the call made to learn it (None when known).

        Asked once per service per run (rows asking at once wait for one call);
        None when the read failed for good (e.g. retries ran out), which is not
        kept, so a later row asks again. Raises what :meth:`CallLoop.call` raises
        (``abandonable`` is passed to it).
        """
        if service_sid in self._exists:
            return self._exists[service_sid], None
        lock = self._asking.setdefault(service_sid, asyncio.Lock())
        async with lock:
            if service_sid in self._exists:
                return self._exists[service_sid], None
            report = await self._calls.call(
                service_request(service_sid), line, abandonable=abandonable
            )
            found: bool | None = True
            if report.error is not None:
                found = False if report.error.status == 404 else None
            if found is not None:
                self._exists[service_sid] = found
        if not lock.locked():
            self._asking.pop(service_sid, None)
        return found, report

    def is_full(self, service_sid: str, kind: SenderKind) -> bool:
        """True once the service answered 21714 and no detach from it has succeeded since.

        Always False for a kind outside the sender pool (an alpha sender).
        """
        return kind.spec.in_sender_pool and service_sid in self._full

    def observe(self, op: Op, kind: SenderKind, service_sid: str, report: CallReport) -> None:
        """Learn from the last answer of an attach or detach of ``kind`` to ``service_sid``."""
        if not kind.spec.in_sender_pool:
            return
        error = report.error
        if op is Op.ATTACH and error is not None and error.code == TwilioCode.POOL_FULL:
            self._full.add(service_sid)
        elif op is Op.DETACH and error is None:
            self._full.discard(service_sid)


__all__ = ["ServiceFacts"]
