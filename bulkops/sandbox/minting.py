"""How the sandbox makes up a sender: its number, SID, country and capabilities, per kind.

Everything here is deterministic, so a world seeded twice from the same job is
the same world. Each kind's facts are one :class:`Minting` in :data:`MINTING`;
nothing branches on the kind.

* A sender seeded by SID gets a number derived from the SID: a 5-digit short
  code (``10000``–``99999``; 6 to 8 digits once those are crowded), or a North
  American number ``+1 NXX NXX XXXX``; a number another sender has is never
  given twice.
* A sender seeded by number gets a SID derived from the number (the kind's
  prefix and 32 hex digits of a BLAKE2b hash).
* Twilio creates an alpha sender's ``AI…`` SID when it is added to a service;
  the sandbox derives it from the service, the text and a counter.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..model import SenderKind


def twilio_time(epoch_s: float | None = None) -> str:
    """A timestamp as Messaging v1 writes it: ``2015-07-30T20:12:31Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


#: Tries at a free number before :meth:`~.senders.Senders.free_number` gives up.
ATTEMPTS = 64
#: Tries at a 5-digit short code before longer ones (3–8 digits are all short codes).
FIVE_DIGIT_ATTEMPTS = 8


def _mix(index: int, attempt: int) -> int:
    """A well-spread integer for the ``attempt``-th retry at ``index`` (SplitMix64's constants)."""
    return (index * 0x9E3779B97F4A7C15 + attempt * 0xBF58476D1CE4E5B9) % (1 << 64)


def short_code_number(index: int, attempt: int = 0) -> str:
    """The short code for ``index``: 5 digits (``10000 + index % 90000`` first), then, once the
    5-digit numbers are crowded, 6 to 8 digits."""
    if attempt == 0:
        return str(10000 + index % 90000)
    if attempt < FIVE_DIGIT_ATTEMPTS:
        return str(10000 + _mix(index, attempt) % 90000)
    return str(100000 + _mix(index, attempt) % 99_900_000)


def nanp_number(index: int, attempt: int = 0) -> str:
    """The North American number for ``index``, ``+1 NXX NXX XXXX`` (area and exchange 200–999)."""
    if attempt:
        index = _mix(index, attempt)
    index %= 800 * 800 * 10000
    area, rest = divmod(index, 800 * 10000)
    exchange, line = divmod(rest, 10000)
    return f"+1{200 + area}{200 + exchange}{line:04d}"


def short_code_capabilities(index: int) -> tuple[str, ...]:
    """``("SMS",)`` or ``("SMS", "MMS")``."""
    return ("SMS", "MMS") if index % 2 else ("SMS",)


def phone_number_capabilities(index: int) -> tuple[str, ...]:
    """``("MMS", "SMS", "Voice")`` or ``("SMS", "Voice")``, as the spec's example spells them."""
    return ("MMS", "SMS", "Voice") if index % 2 else ("SMS", "Voice")


def alpha_capabilities(_index: int) -> tuple[str, ...]:
    """``("SMS",)``: an alpha sender only sends SMS (spec: messaging.v1.service.alpha_sender)."""
    return ("SMS",)


#: ITU calling code → ISO 3166 country, for the numbers a job names; others are ``ZZ``
#: (ISO's "unknown"), which the sandbox never claims to know better.
CALLING_CODES = {
    "+1": "US",
    "+31": "NL",
    "+33": "FR",
    "+34": "ES",
    "+39": "IT",
    "+44": "GB",
    "+46": "SE",
    "+49": "DE",
    "+52": "MX",
    "+55": "BR",
    "+61": "AU",
    "+81": "JP",
    "+91": "IN",
}


def country_of_phone_number(number: str) -> str:
    """The ISO country of an E.164 number by its calling code (``+14155550100`` → ``US``)."""
    for digits in (2, 3, 4):
        country = CALLING_CODES.get(number[:digits])
        if country is not None:
            return country
    return "ZZ"


@dataclass(frozen=True, slots=True)
class Minting:
    """What the sandbox needs to make up a sender of one kind."""

    #: The number for a SID's index at the given attempt (0 first, then others
    #: while the number is taken); None for a kind whose value is text the
    #: client chooses (alpha senders).
    number_at: Callable[[int, int], str] | None
    #: The capabilities a sender with this index gets.
    capabilities_at: Callable[[int], tuple[str, ...]]
    #: The ISO country of a number; None when the resource has no ``country_code``.
    country_of: Callable[[str], str] | None


MINTING = {
    SenderKind.SHORT_CODE: Minting(
        number_at=short_code_number,
        capabilities_at=short_code_capabilities,
        country_of=lambda _number: "US",
    ),
    SenderKind.PHONE_NUMBER: Minting(
        number_at=nanp_number,
        capabilities_at=phone_number_capabilities,
        country_of=country_of_phone_number,
    ),
    SenderKind.ALPHA_SENDER: Minting(
        number_at=None,
        capabilities_at=alpha_capabilities,
        country_of=None,
    ),
}


def sid_index(sid: str) -> int:
    """The integer a SID's 32 hex digits spell; seeds the number derived from it."""
    return int(sid[2:], 16)


def sid_for(kind: SenderKind, *parts: str) -> str:
    """A SID of ``kind`` derived from ``parts`` (e.g. a number): prefix + 32 hex digits."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()
    return kind.spec.sid_prefix + digest
