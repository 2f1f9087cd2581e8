"""The values of planning: what is desired, what is, and the plan between them.

A plan speaks of senders as a run does: phone numbers and short codes by their
SID (each is in one service at most), alpha senders by their text (the same
text may be in several services, each time under an ``AI…`` SID of that
service's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ..model import Op, SenderKind

#: Twilio's limit on the phone numbers and short codes of one Messaging Service
#: (error 21714, "Messaging Service Number Pool size limit reached"); alpha senders do not count.
SENDER_LIMIT = 400


@dataclass(frozen=True, slots=True)
class Wanted:
    """One row of the desired file: this sender should be in this service.

    ``sid`` is the account's SID of a phone number or short code, None when the
    account does not own it; alpha senders need none (their identity is the text).
    """

    line: int
    service_sid: str
    kind: SenderKind
    #: The sender as the file wrote it: a SID, a number or an alpha text.
    sender: str
    sid: str | None
    #: What people read: E.164, a short code's digits or the alpha text ("" if unknown).
    number: str = ""

    @property
    def owned(self) -> bool:
        """True when the account has this sender (alpha senders: always, Twilio creates them)."""
        return self.kind.spec.account_listing is None or self.sid is not None

    @property
    def identity(self) -> str:
        """The sender as a plan names it: the alpha text, else the SID (the number if none)."""
        return self.kind.spec.identity(self.sender, self.sid)


@dataclass(frozen=True, slots=True)
class Held:
    """One sender a service holds now, as its list showed it: SID (``AI…`` for alpha) and number."""

    kind: SenderKind
    sid: str
    #: E.164, the short code's digits, or the alpha text.
    number: str

    @property
    def identity(self) -> str:
        """As :attr:`Wanted.identity`: the alpha text, else the SID."""
        return self.kind.spec.identity(self.number, self.sid)


@dataclass(frozen=True, slots=True)
class Current:
    """Where senders are now: the account's services and what each listed service holds."""

    #: Every Messaging Service of the account (``GET /v1/Services``).
    services: frozenset[str]
    #: Service SID → the senders it holds, of the kinds it was listed for.
    held: Mapping[str, tuple[Held, ...]] = field(default_factory=dict)


class Problem(StrEnum):
    """Why a desired row is left out of the plan."""

    #: The row is not a valid job row (bad SID, a value that fits no kind, an op not attach).
    INVALID = "invalid"
    #: The service is not one of the account's Messaging Services.
    NO_SERVICE = "no_service"
    #: The account does not own the phone number or short code.
    NOT_OWNED = "not_owned"
    #: The phone number or short code is desired in two services (it can be in one).
    TWO_SERVICES = "two_services"
    #: The service would pass :data:`SENDER_LIMIT` phone numbers and short codes.
    OVER_LIMIT = "over_limit"


@dataclass(frozen=True, slots=True)
class Conflict:
    """A desired row left out of the plan: its line, why, and a message naming sender, service."""

    line: int
    problem: Problem
    message: str


@dataclass(frozen=True, slots=True)
class Step:
    """One row of the plan: an attach, a move (``migrate``) or a detach of one sender."""

    op: Op
    service_sid: str
    kind: SenderKind
    #: The SID of a phone number or short code, the text of an alpha sender.
    sender: str
    #: What people read (E.164, digits, text); "" when unknown.
    number: str = ""
    #: The source of a move; None otherwise.
    from_service_sid: str | None = None
    #: The desired file's line this step serves; None for a ``--prune`` detach.
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ServiceCount:
    """A service's phone numbers and short codes before and after the plan (alpha not counted)."""

    service_sid: str
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run must do to reach the desired state, and what it cannot do."""

    #: The rows of the plan, in run order (leaves before enters, per service).
    steps: tuple[Step, ...]
    #: Desired rows left out, in line order.
    conflicts: tuple[Conflict, ...]
    #: Desired rows already in place.
    unchanged: int
    #: Desired rows that repeat an earlier row (same sender, same service).
    repeated: int
    #: Every service the plan touches or the file desires, by SID.
    services: tuple[ServiceCount, ...]
    #: Twilio calls ``bulkops run`` makes for the plan when every call succeeds first time.
    calls: int
    limit: int = SENDER_LIMIT

    def count(self, op: Op) -> int:
        """Steps of ``op``."""
        return sum(1 for step in self.steps if step.op is op)

    @property
    def changes(self) -> bool:
        """True when the plan has any step."""
        return bool(self.steps)


__all__ = [
    "SENDER_LIMIT",
    "Conflict",
    "Current",
    "Held",
    "Plan",
    "Problem",
    "ServiceCount",
    "Step",
    "Wanted",
]
