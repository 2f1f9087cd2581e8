"""The values bulkops passes around: what a job asks for and what became of it.

Everything here is immutable. Operations, outcomes and details are ``str`` enums
so they serialise as the plain words that appear in result files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .kinds import AccountListing, KindSpec, SenderKind, infer_kind

SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
#: What a record says for ``kind`` when its row's kind could not be told (an invalid row).
UNKNOWN_KIND = "unknown"

__all__ = [
    "SERVICE_SID",
    "UNKNOWN_KIND",
    "AccountListing",
    "Detail",
    "InvalidRow",
    "ItemResult",
    "KindSpec",
    "Op",
    "Outcome",
    "Row",
    "SenderKind",
    "infer_kind",
]


class Op(StrEnum):
    """What a job row asks bulkops to do with one sender."""

    #: Add the sender to the service (``POST``).
    ATTACH = "attach"
    #: Remove the sender from the service (``DELETE``).
    DETACH = "detach"
    #: Read the sender as the service holds it (``GET``).
    FETCH = "fetch"
    #: Move the sender from ``from_service_sid`` to ``service_sid``: detach, then attach
    #: (re-attached to the source if the attach fails for good).
    MIGRATE = "migrate"


class Outcome(StrEnum):
    """The final state of one job row."""

    #: The world is as the row asks (including "it already was").
    SUCCEEDED = "succeeded"
    #: Twilio refused, or retries ran out; the row may be run again.
    FAILED = "failed"
    #: The row itself is malformed; it never reached the network.
    INVALID = "invalid"
    #: The row was not sent on purpose (e.g. it repeats an earlier row).
    SKIPPED = "skipped"


class Detail(StrEnum):
    """The word that says why a row ended as it did."""

    ATTACHED = "attached"
    ALREADY_ATTACHED = "already_attached"
    ATTACHED_ELSEWHERE = "attached_elsewhere"
    POOL_FULL = "pool_full"
    DETACHED = "detached"
    NOT_ATTACHED = "not_attached"
    FETCHED = "fetched"
    NOT_FOUND = "not_found"
    #: Any other 4xx answer; the record carries Twilio's code and message.
    REJECTED = "rejected"
    #: Transient failures (429, 5xx, network) until ``max_attempts`` ran out.
    RETRIES_EXHAUSTED = "retries_exhausted"
    #: The row failed validation; the message names the problem.
    INVALID_ROW = "invalid_row"
    #: The row names a phone number or short code the account does not own
    #: (its listing has no such number); nothing was sent for it.
    SENDER_NOT_FOUND = "sender_not_found"
    #: The row repeats an earlier row of the same job (same key); not sent.
    DUPLICATE = "duplicate"
    #: A migration detached from the source, the attach failed for good, and the
    #: sender was put back in the source service (or settling found it in neither
    #: service after writes that got no answer, and put it back).
    ROLLED_BACK = "rolled_back"
    #: A migration moved the sender (or found it already moved).
    MIGRATED = "migrated"
    #: A migration's attach failed for good AND putting the sender back in the
    #: source failed too, or settling still read it back in neither service after
    #: its last attempt to mend the move: the sender may be in no service. Needs a person.
    ROLLBACK_FAILED = "rollback_failed"
    #: A 404 on a detach or fetch, and ``GET /v1/Services/{Sid}`` says the service
    #: itself does not exist (Twilio answers 404 for both).
    SERVICE_NOT_FOUND = "service_not_found"


@dataclass(frozen=True, slots=True)
class Row:
    """One valid job row: an operation on one sender in one service.

    ``sender`` is the sender as the job writes it: a SID (``SC…``, ``PN…``), a
    number (``+14155550100``, ``12345``) or an alpha sender's text. ``sender_sid``
    is the SID acted on: the ``sender`` itself when that is a SID, the account's
    SID for a number once resolved (``bulkops.senders``), and "" before that and
    for an alpha sender (whose ``AI…`` SID exists only inside a service).
    """

    line: int
    op: Op
    service_sid: str
    sender: str
    kind: SenderKind = SenderKind.SHORT_CODE
    #: The source service of a ``migrate`` row; None for every other op.
    from_service_sid: str | None = None
    sender_sid: str = ""

    def __post_init__(self) -> None:
        if not self.sender_sid and self.kind.sid_pattern.fullmatch(self.sender):
            object.__setattr__(self, "sender_sid", self.sender)

    @property
    def resolved(self) -> bool:
        """True when the row can be sent: its kind is created by text, or its SID is known."""
        return bool(self.sender_sid) or self.kind.spec.creates_by_text

    @property
    def create_value(self) -> str:
        """The value of the create call's form field: the alpha text, else the SID."""
        return self.sender if self.kind.spec.creates_by_text else self.sender_sid

    @property
    def identity(self) -> str:
        """The resolved sender: the alpha text, else the SID (the number until resolved).

        See :meth:`~bulkops.kinds.KindSpec.identity`.
        """
        return self.kind.spec.identity(self.sender, self.sender_sid)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What the row asks, whatever its line and however it names the sender."""
        return (
            self.op._value_,  # not .value (a property): every row's key
            self.service_sid,
            self.kind._value_,
            self.identity,
            self.from_service_sid or "",
        )


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A job row that failed validation, kept as read so its record shows it.

    ``kind`` is the kind the row declares or its value shows; None when neither
    tells (its record says :data:`UNKNOWN_KIND`, claiming no kind).
    """

    line: int
    op: str
    service_sid: str
    sender: str
    problem: str
    kind: SenderKind | None = None
    from_service_sid: str = ""

    @property
    def sender_sid(self) -> str:
        """The sender as written (an invalid row was never resolved)."""
        return self.sender

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Same shape as :attr:`Row.key`, from the row as written."""
        kind = self.kind.value if self.kind is not None else UNKNOWN_KIND
        return (self.op, self.service_sid, kind, self.sender, self.from_service_sid)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The final record of one job row.

    ``sender_sid`` is the SID acted on (for an alpha attach, the ``AI…`` SID
    Twilio created or already had; "" when none was known, e.g. a number the
    account does not own); ``sender`` is the sender as the job wrote it.
    """

    line: int
    op: str
    service_sid: str
    sender_sid: str
    outcome: Outcome
    detail: Detail
    #: None for an invalid row whose kind could not be told.
    kind: SenderKind | None = SenderKind.SHORT_CODE
    #: The sender as the job wrote it ("" = the same as ``sender_sid``).
    sender: str = ""
    http_status: int | None = None
    twilio_code: int | None = None
    message: str | None = None
    attempts: int = 0
    elapsed_ms: float = 0.0
    finished_at: str = ""
    #: How many of the attempts were answered 429 (throttled).
    throttled: int = 0
    #: The source service of a migration.
    from_service_sid: str | None = None
    #: Extra fields: a fetched resource's ``short_code``…, a migration's ``steps``.
    resource: dict[str, Any] = field(default_factory=dict)
    #: True when the outcome was established by reading the sender back after the
    #: settle period (a write of the row may have been applied without an answer).
    settled: bool = False

    @property
    def kind_name(self) -> str:
        """The kind as records and the failed-rows job write it; :data:`UNKNOWN_KIND` if none."""
        return self.kind._value_ if self.kind is not None else UNKNOWN_KIND  # every record

    def to_record(self) -> dict[str, Any]:
        """The JSON object written to the result log."""
        record: dict[str, Any] = {
            "line": self.line,
            "op": self.op,
            "service_sid": self.service_sid,
            "kind": self.kind_name,
            "sender": self.sender or self.sender_sid,
            "sender_sid": self.sender_sid,
            "outcome": self.outcome.value,
            "detail": self.detail.value,
            "http_status": self.http_status,
            "twilio_code": self.twilio_code,
            "message": self.message,
            "attempts": self.attempts,
            "elapsed_ms": self.elapsed_ms,
            "finished_at": self.finished_at,
            "throttled": self.throttled,
        }
        if self.kind is not None and not self.kind.spec.creates_by_text:  # e.g. short_code_sid
            record[self.kind.sid_column] = self.sender_sid
        if self.from_service_sid:
            record["from_service_sid"] = self.from_service_sid
        if self.settled:
            record["settled"] = True
        record.update(self.resource)
        return record
