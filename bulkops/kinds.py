"""Sender kinds: one declarative description per kind, taken from Twilio's specs.

A Messaging Service's sender pool holds short codes, phone numbers and alpha
sender IDs. They share one REST shape and differ only in names and a few facts
(what the create call takes, whether a kind counts toward the 400-sender limit,
how its numbers resolve to SIDs), which :class:`KindSpec` holds as data; code
reads ``kind.spec`` instead of branching on the kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class AccountListing:
    """The account-level listing that turns a kind's numbers into SIDs (API 2010-04-01).

    Spec: ``twilio_api_v2010.json``, ``GET {path}`` with the query filter
    ``filter_param`` and ``PageSize`` (1..1000); items under ``list_key``, each
    with ``sid`` and ``number_field``; paged by the top-level ``next_page_uri``
    (a path on the same host), not ``meta.next_page_url`` as in Messaging v1.
    """

    #: The path template, e.g. ``/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json``.
    path: str
    #: The query parameter that filters by number, e.g. ``PhoneNumber``.
    filter_param: str
    #: The key of the page's items, e.g. ``incoming_phone_numbers``.
    list_key: str
    #: The item field holding the number, e.g. ``phone_number``.
    number_field: str

    def path_for(self, account_sid: str) -> str:
        """The listing's path for one account: ``{AccountSid}`` filled in."""
        return self.path.replace("{AccountSid}", account_sid)


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One kind of sender as Twilio's Messaging v1 spec names it; the only place kinds differ.

    Spec: ``twilio_messaging_v1.json``, ``/v1/Services/{ServiceSid}/{collection}``
    (create, list) and ``…/{collection}/{Sid}`` (fetch, delete); resource schema
    ``messaging.v1.service.{resource}``.
    """

    #: What people call it, e.g. ``phone number``.
    label: str
    #: The path segment under ``/v1/Services/{ServiceSid}/``, e.g. ``PhoneNumbers``.
    collection: str
    #: The create call's one form field, e.g. ``PhoneNumberSid`` (``AlphaSender`` takes the text).
    create_param: str
    #: The key of a list page's items, e.g. ``phone_numbers``.
    list_key: str
    #: The resource's SID prefix, e.g. ``PN``.
    sid_prefix: str
    #: The resource field holding the value people write, e.g. ``phone_number``.
    number_field: str
    #: What that value looks like in a job (the issue's inference rules; E.164 per the spec).
    number_pattern: re.Pattern[str]
    #: ``number_pattern`` in words, for messages, e.g. ``+ and 8 to 15 digits (E.164)``.
    number_rule: str
    #: True when the create call takes the text (``AlphaSender``), not a SID; such a
    #: sender's SID exists only in a service, found by listing the service.
    creates_by_text: bool
    #: True when the sender counts toward a service's 400-sender limit (Twilio error
    #: 21714): phone numbers and short codes together; alpha senders do not.
    in_sender_pool: bool
    #: True when the sender can be in one service at a time. A phone number or short
    #: code is one account resource that a service takes by its SID; adding it to a
    #: second service is refused (409/21712, "associated with another Messaging
    #: Service"). An alpha sender is created inside a service from its text (the
    #: spec's ``CreateAlphaSender`` takes only ``AlphaSender``; each service gets an
    #: ``AI…`` SID of its own), so the same text may be in several services at once.
    one_service_at_a_time: bool
    #: How the account's numbers of this kind resolve to SIDs; None for alpha senders.
    account_listing: AccountListing | None
    #: The spec's SID pattern, e.g. ``^PN[0-9a-fA-F]{32}$`` (from ``sid_prefix``).
    sid_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile(rf"^{self.sid_prefix}[0-9a-fA-F]{{32}}$")
        object.__setattr__(self, "sid_pattern", pattern)

    @property
    def a_label(self) -> str:
        """The label with its article, for messages: ``a phone number``, ``an alpha sender ID``."""
        return ("an " if self.label[0] in "aeiou" else "a ") + self.label

    @property
    def identity_field(self) -> str:
        """The resource field a job names the sender by: its text if created by text, else sid."""
        return self.number_field if self.creates_by_text else "sid"

    def identity(self, written: str, sid: str | None = None) -> str:
        """How bulkops tells one sender of this kind from another, across services and rows.

        The text (``written``) for a kind created by text, whose ``AI…`` SID
        belongs to one service; else the SID, or ``written`` (the number) while
        the SID is not known. Unique across kinds as well: SIDs carry their
        kind's prefix, a number is digits (short code) or ``+`` and digits (phone
        number), and an alpha sender has a letter and at most 11 characters.
        """
        if self.creates_by_text:
            return written
        return sid or written


_KINDS: dict[str, KindSpec] = {
    "short_code": KindSpec(
        label="short code",
        collection="ShortCodes",
        create_param="ShortCodeSid",
        list_key="short_codes",
        sid_prefix="SC",
        number_field="short_code",
        number_pattern=re.compile(r"^[0-9]{3,8}$"),
        number_rule="3 to 8 digits",
        creates_by_text=False,
        in_sender_pool=True,
        one_service_at_a_time=True,
        account_listing=AccountListing(
            "/2010-04-01/Accounts/{AccountSid}/SMS/ShortCodes.json",
            "ShortCode",
            "short_codes",
            "short_code",
        ),
    ),
    "phone_number": KindSpec(
        label="phone number",
        collection="PhoneNumbers",
        create_param="PhoneNumberSid",
        list_key="phone_numbers",
        sid_prefix="PN",
        number_field="phone_number",
        number_pattern=re.compile(r"^\+[0-9]{8,15}$"),
        number_rule="+ and 8 to 15 digits (E.164)",
        creates_by_text=False,
        in_sender_pool=True,
        one_service_at_a_time=True,
        account_listing=AccountListing(
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
            "PhoneNumber",
            "incoming_phone_numbers",
            "phone_number",
        ),
    ),
    "alpha_sender": KindSpec(
        label="alpha sender ID",
        collection="AlphaSenders",
        create_param="AlphaSender",
        list_key="alpha_senders",
        sid_prefix="AI",
        number_field="alpha_sender",
        # 1-11 of A-Z a-z 0-9 space + - _ &, at least one letter (spec: CreateAlphaSender).
        number_pattern=re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 +\-_&]{1,11}$"),
        number_rule="1 to 11 of A-Z a-z 0-9 space + - _ &, at least one letter",
        creates_by_text=True,
        in_sender_pool=False,
        one_service_at_a_time=False,
        account_listing=None,
    ),
}


class SenderKind(Enum):
    """A kind of sender a Messaging Service holds; :attr:`spec` says everything about it.

    Every kind has the same REST shape (``/v1/Services/{MG}/<collection>``); only
    the names differ, so the client, the engine and the job reader take the kind
    as a parameter and read its :class:`KindSpec` instead of branching on it.
    """

    #: A short code, ``SC…``, in ``/v1/Services/{MG}/ShortCodes``.
    SHORT_CODE = "short_code"
    #: A phone number, ``PN…``, in ``/v1/Services/{MG}/PhoneNumbers``.
    PHONE_NUMBER = "phone_number"
    #: An alphanumeric sender ID, created by its text, ``AI…`` once in a service.
    ALPHA_SENDER = "alpha_sender"

    #: This kind's description: a plain attribute, read on every row's path many times
    #: (a property and a lookup each time cost a microsecond or more a row).
    spec: KindSpec

    def __init__(self, value: str) -> None:
        self.spec = _KINDS[value]

    @property
    def collection(self) -> str:
        """The URL segment, e.g. ``ShortCodes``."""
        return self.spec.collection

    @property
    def create_param(self) -> str:
        """The form field of the create call, e.g. ``ShortCodeSid``."""
        return self.spec.create_param

    @property
    def list_key(self) -> str:
        """The key of the list page's items, e.g. ``short_codes``."""
        return self.spec.list_key

    @property
    def sid_column(self) -> str:
        """The job-file column and result field of the SID, e.g. ``short_code_sid``."""
        return f"{self._value_}_sid"

    @property
    def sid_pattern(self) -> re.Pattern[str]:
        """The spec's SID pattern, e.g. ``^SC[0-9a-fA-F]{32}$``."""
        return self.spec.sid_pattern

    @property
    def number_field(self) -> str:
        """The resource field of the human-readable value, e.g. ``short_code``."""
        return self.spec.number_field


def infer_kind(value: str) -> SenderKind | None:
    """The kind a job value names, or None if it fits none (issue 10's rules, in order).

    ``SC``/``PN`` + 32 hex digits → that kind's SID; ``+`` and 8–15 digits → a
    phone number; 3–8 digits → a short code; else an alpha sender when it is
    1–11 of A–Z a–z 0–9 space ``+ - _ &`` with at least one letter.
    """
    for kind in SenderKind:
        if not kind.spec.creates_by_text and kind.sid_pattern.fullmatch(value):
            return kind
    for kind in SenderKind:
        if kind.spec.number_pattern.fullmatch(value):
            return kind
    return None
