"""Where a row's sender is now, read back: in the row's service, and in a migrate's source.

Each service is read as the sender's kind allows: a ``GET`` of the sender by its
SID, or, for a sender named by its text (an alpha sender, whose ``AI…`` SID
exists only in a service), the service's list read afresh
(:meth:`~.directory.ServiceDirectory.reread`). Twilio answers 404 both for "not
in this service" and for "no such service", so a 404 is judged by reading the
service once (:meth:`~.services.ServiceFacts.exists`): a service that does not
exist is ``missing``, never "not attached".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Op, Row
from ..twilio.wire import build_request
from .calls import CallLoop
from .directory import ServiceDirectory
from .records import CallReport
from .services import ServiceFacts
from .steps import Placement

_READ = "read back after the settle period"


@dataclass(frozen=True, slots=True)
class Seen:
    """Whether the sender is in one service, as read back."""

    service_sid: str
    #: True: there; False: not there (or no such service); None: could not be read.
    attached: bool | None
    #: The calls of the read (the GET or the list's pages, and any read of the service).
    checks: list[CallReport] = field(default_factory=list)
    #: The call whose answer says it: the GET of the sender, the list's last page, or
    #: the read of a service that does not exist. None when nothing was called.
    decided_by: CallReport | None = None
    #: The SID the sender has in the service, when it is there.
    sid: str | None = None
    #: True when the service itself does not exist.
    missing: bool = False


@dataclass(frozen=True, slots=True)
class ReadBack:
    """What reading a row's sender back found: in its service, and in a migrate's source."""

    target: Seen
    #: The migrate row's source (None for other rows, or when the target could not be read).
    source: Seen | None = None

    @property
    def checks(self) -> list[CallReport]:
        """Every call of the read, in order."""
        return self.target.checks + (self.source.checks if self.source is not None else [])

    @property
    def readable(self) -> bool:
        """False when a service that had to be read could not be."""
        seen = (self.target, self.source) if self.source is not None else (self.target,)
        return all(s.attached is not None for s in seen)

    @property
    def missing(self) -> Seen | None:
        """A service of the row that does not exist (the target first), or None."""
        if self.target.missing:
            return self.target
        return self.source if self.source is not None and self.source.missing else None

    def holds(self, row: Row) -> bool:
        """True when the sender is where ``row`` leaves it (check :attr:`readable` first).

        A detach leaves it out of the row's service; a migrate in the target and
        out of the source; an attach or a fetch in the row's service.
        """
        if row.op is Op.DETACH:
            return self.target.attached is False
        in_source = self.source is not None and self.source.attached is True
        return self.target.attached is True and not in_source

    @property
    def placement(self) -> Placement | None:
        """For a migrate read in both services: where the sender is (None otherwise)."""
        if self.source is None or not self.readable:
            return None
        return Placement(
            in_target=self.target.attached is True,
            in_source=self.source.attached is True,
            target_sid=self.target.sid,
            source_sid=self.source.sid,
        )

    def where(self, row: Row) -> str:
        """What the read found, for the record's message (``row`` is the row read back)."""
        seen = [s for s in (self.target, self.source) if s is not None]
        blind = next((s for s in seen if s.attached is None), None)
        if blind is not None:
            why = f" ({blind.decided_by.step('read')})" if blind.decided_by else ""
            return f"could not read it back after the settle period{why}"
        if (gone := self.missing) is not None:
            return f"{_READ}: {gone.service_sid} does not exist"
        if self.source is None:
            state = "attached to" if self.target.attached else "not attached to"
            return f"{_READ}: {state} {row.service_sid}"
        return f"{_READ}: {_placed(self.source, self.target)}"


def _placed(source: Seen, target: Seen) -> str:
    """Where a migrate's sender is: ``in S and T``, ``in neither S nor T``, ``in T, not in S``."""
    s, t = source.service_sid, target.service_sid
    if source.attached and target.attached:
        return f"in {s} and {t}"
    if target.attached:
        return f"in {t}, not in {s}"
    if source.attached:
        return f"in {s}, not in {t}"
    return f"in neither {s} nor {t}"


class Reader:
    """Reads senders back for one run: through its calls, directory and service facts."""

    def __init__(self, calls: CallLoop, directory: ServiceDirectory, facts: ServiceFacts) -> None:
        self._calls = calls
        self._directory = directory
        self._facts = facts

    async def read(self, row: Row) -> ReadBack:
        """Where ``row``'s sender is: in its service, and for a migrate in its source too.

        Raises what :meth:`~.calls.CallLoop.call` raises.
        """
        target = await self._seen(row, row.service_sid)
        if row.op is not Op.MIGRATE or not row.from_service_sid or target.attached is None:
            return ReadBack(target)
        return ReadBack(target, await self._seen(row, row.from_service_sid))

    async def _seen(self, row: Row, service_sid: str) -> Seen:
        if not row.sender_sid:
            found = await self._directory.reread(row, service_sid)
            last = found.calls[-1] if found.calls else None
            if found.error is None:
                return Seen(service_sid, found.sid is not None, found.calls, last, found.sid)
            if found.error.status != 404:
                return Seen(service_sid, None, found.calls, last)
            return await self._judge_404(row, service_sid, found.calls)
        request = build_request(Op.FETCH, row.kind, service_sid, row.sender_sid)
        check = await self._calls.call(request, row.line)
        if check.error is None:
            return Seen(service_sid, True, [check], check, row.sender_sid)
        if check.error.status != 404:
            return Seen(service_sid, None, [check], check)
        return await self._judge_404(row, service_sid, [check])

    async def _judge_404(self, row: Row, service_sid: str, checks: list[CallReport]) -> Seen:
        """After a 404 in ``service_sid``: not there, or no such service (read once per run)."""
        answered = checks[-1]
        exists, read = await self._facts.exists(service_sid, row.line)
        if read is not None:
            checks = [*checks, read]
        if exists is None:  # the service could not be read: nor can where the sender is
            return Seen(service_sid, None, checks, read or answered)
        if exists is False:
            return Seen(service_sid, False, checks, read or answered, missing=True)
        return Seen(service_sid, False, checks, answered)


__all__ = ["ReadBack", "Reader", "Seen"]
