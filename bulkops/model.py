"""The values bulkops passes around: what a job asks for and what became of it.

Everything here is immutable. Operations, outcomes and details are ``str`` enums
so they serialise as the plain words that appear in result files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


class SenderKind(Enum):
    """A kind of sender a Messaging Service holds.

    Every kind has the same REST shape (``/v1/Services/{MG}/<collection>``); only
    the names differ, so the client and the job reader take the kind as a
    parameter instead of hard-coding a path.
    """

    #: A short code, ``SC…``, in ``/v1/Services/{MG}/ShortCodes``.
    SHORT_CODE = "short_code"

    @property
    def collection(self) -> str:
        """The URL segment, e.g. ``ShortCodes``."""
        return _KIND_NAMES[self][0]

    @property
    def create_param(self) -> str:
        """The form field of the create call, e.g. ``ShortCodeSid``."""
        return _KIND_NAMES[self][1]

    @property
    def list_key(self) -> str:
        """The key of the list page's items, e.g. ``short_codes``."""
        return _KIND_NAMES[self][2]

    @property
    def sid_column(self) -> str:
        """The job-file column and result field, e.g. ``short_code_sid``."""
        return f"{self.value}_sid"

    @property
    def sid_pattern(self) -> re.Pattern[str]:
        return _KIND_PATTERNS[self]


_KIND_NAMES = {SenderKind.SHORT_CODE: ("ShortCodes", "ShortCodeSid", "short_codes")}
_KIND_PATTERNS = {SenderKind.SHORT_CODE: re.compile(r"^SC[0-9a-fA-F]{32}$")}


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
    #: The row repeats an earlier row of the same job (same key); not sent.
    DUPLICATE = "duplicate"
    #: A migration detached from the source, the attach failed for good, and the
    #: sender was put back in the source service.
    ROLLED_BACK = "rolled_back"
    #: A migration moved the sender (or found it already moved).
    MIGRATED = "migrated"
    #: A migration's attach failed for good AND putting the sender back in the
    #: source failed too: the sender may be in no service. Needs a person.
    ROLLBACK_FAILED = "rollback_failed"
    #: A 404 on a detach or fetch, and ``GET /v1/Services/{Sid}`` says the service
    #: itself does not exist (Twilio answers 404 for both).
    SERVICE_NOT_FOUND = "service_not_found"


@dataclass(frozen=True, slots=True)
class Row:
    """One valid job row: an operation on one sender in one service."""

    line: int
    op: Op
    service_sid: str
    sender_sid: str
    kind: SenderKind = SenderKind.SHORT_CODE
    #: The source service of a ``migrate`` row; None for every other op.
    from_service_sid: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What the row asks, independent of where it sits in the file."""
        return (self.op.value, self.service_sid, self.sender_sid, self.from_service_sid or "")


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A job row that failed validation, kept as read so its record shows it."""

    line: int
    op: str
    service_sid: str
    sender_sid: str
    problem: str
    kind: SenderKind = SenderKind.SHORT_CODE
    from_service_sid: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Same shape as :attr:`Row.key`, from the row as written."""
        return (self.op, self.service_sid, self.sender_sid, self.from_service_sid)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The final record of one job row."""

    line: int
    op: str
    service_sid: str
    sender_sid: str
    outcome: Outcome
    detail: Detail
    kind: SenderKind = SenderKind.SHORT_CODE
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

    def to_record(self) -> dict[str, Any]:
        """The JSON object written to the result log."""
        record: dict[str, Any] = {
            "line": self.line,
            "op": self.op,
            "service_sid": self.service_sid,
            self.kind.sid_column: self.sender_sid,
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
        if self.from_service_sid:
            record["from_service_sid"] = self.from_service_sid
        if self.settled:
            record["settled"] = True
        record.update(self.resource)
        return record
