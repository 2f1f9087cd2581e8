"""Every sender the sandbox knows, found by SID and by number.

A phone number's or short code's number is unique on the account; an alpha
sender's text is unique within its service (the same text may be in several
services, each time under its own ``AI…`` SID). :class:`Senders` keeps both
lookups as dicts, and the account's SIDs of one kind sorted for its listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..model import SenderKind
from .minting import ATTEMPTS, MINTING, sid_for, sid_index, twilio_time


@dataclass(slots=True)
class Sender:
    """One sender, and the service it is attached to, if any.

    ``number`` is what people write: ``+14155550100``, ``12345`` or an alpha
    sender's text. ``country_code`` is None for a kind whose resource has none.
    """

    sid: str
    kind: SenderKind
    number: str
    country_code: str | None
    capabilities: tuple[str, ...]
    date_created: str
    date_updated: str
    service_sid: str | None = None


def identity(kind: SenderKind, number: str, service_sid: str | None) -> tuple[SenderKind, str, str]:
    """What makes a sender unique: its number on the account, or its text in its service."""
    return (kind, (service_sid or "") if kind.spec.creates_by_text else "", number)


class Senders:
    """The senders by SID (:attr:`by_sid`) and by number, and the account's sorted SIDs."""

    def __init__(self) -> None:
        #: sender SID → sender.
        self.by_sid: dict[str, Sender] = {}
        #: :func:`identity` → SID.
        self._by_number: dict[tuple[SenderKind, str, str], str] = {}
        #: kind → the sorted SIDs of the account's senders of that kind, while valid.
        self._sorted: dict[SenderKind, list[str]] = {}

    def add(
        self,
        kind: SenderKind,
        sid: str,
        number: str,
        *,
        service_sid: str | None = None,
        now_s: float | None = None,
    ) -> Sender:
        """Register one sender exactly as given; returns it.

        Its country and capabilities come from :data:`~.minting.MINTING`. Raises
        ValueError when the SID is malformed or taken, or the number is another
        sender's already (on the account, or in ``service_sid`` for an alpha sender).
        """
        if not kind.sid_pattern.fullmatch(sid):
            raise ValueError(f"{kind.value} SID must match {kind.sid_pattern.pattern}: {sid!r}")
        if sid in self.by_sid:
            raise ValueError(f"{sid} exists already")
        key = identity(kind, number, service_sid)
        if key in self._by_number:
            raise ValueError(f"{kind.value} {number!r} is {self._by_number[key]} already")
        minting = MINTING[kind]
        stamp = twilio_time(now_s)
        sender = Sender(
            sid=sid,
            kind=kind,
            number=number,
            country_code=None if minting.country_of is None else minting.country_of(number),
            capabilities=minting.capabilities_at(sid_index(sid)),
            date_created=stamp,
            date_updated=stamp,
            service_sid=service_sid,
        )
        self.by_sid[sid] = sender
        self._by_number[key] = sid
        self._sorted.pop(kind, None)
        return sender

    def seed(
        self, kind: SenderKind, values: Iterable[str], *, now_s: float | None = None
    ) -> list[str]:
        """Add a sender of ``kind`` for each value, a SID or a number, unless it exists; their
        SIDs. See :meth:`~.world.World.seed_senders`."""
        spec = kind.spec
        if spec.creates_by_text:
            raise ValueError(f"{kind.value}s exist only in a service: attach them by text")
        sids = []
        for value in values:
            if kind.sid_pattern.fullmatch(value):
                if value not in self.by_sid:
                    self.add(kind, value, self.free_number(kind, value), now_s=now_s)
                sids.append(value)
            elif spec.number_pattern.fullmatch(value):
                found = self.find(kind, value)
                if found is None:
                    found = self.add(kind, sid_for(kind, value), value, now_s=now_s)
                sids.append(found.sid)
            else:
                raise ValueError(
                    f"{kind.value} must match {kind.sid_pattern.pattern} (a SID) or "
                    f"{spec.number_pattern.pattern} (a number): {value!r}"
                )
        return sids

    def remove(self, sender: Sender) -> None:
        """Forget the sender (an alpha sender deleted from its service)."""
        del self.by_sid[sender.sid]
        del self._by_number[identity(sender.kind, sender.number, sender.service_sid)]
        self._sorted.pop(sender.kind, None)

    def find(
        self, kind: SenderKind, number: str, *, service_sid: str | None = None
    ) -> Sender | None:
        """The sender of ``kind`` with this number (or alpha text in ``service_sid``), or None."""
        sid = self._by_number.get(identity(kind, number, service_sid))
        return None if sid is None else self.by_sid[sid]

    def free_number(self, kind: SenderKind, sid: str) -> str:
        """The number derived from ``sid``, or the next one no sender of ``kind`` has.

        Raises ValueError for a kind whose value is text, or when :data:`~.minting.ATTEMPTS`
        tries found every number taken (the account would hold most of them).
        """
        minting = MINTING[kind]
        if minting.number_at is None:
            raise ValueError(f"{kind.value}s have no numbers to derive")
        index = sid_index(sid)
        for attempt in range(ATTEMPTS):
            number = minting.number_at(index, attempt)
            if (kind, "", number) not in self._by_number:
                return number
        raise ValueError(f"no free {kind.value} number for {sid} in {ATTEMPTS} attempts")

    def sorted_sids(self, kind: SenderKind) -> list[str]:
        """The sorted SIDs of every sender of ``kind`` (do not mutate)."""
        sids = self._sorted.get(kind)
        if sids is None:
            sids = sorted(sid for sid, sender in self.by_sid.items() if sender.kind is kind)
            self._sorted[kind] = sids
        return sids
