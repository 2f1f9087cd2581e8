"""The sandbox's state: one account, its Messaging Services and its senders.

Phone numbers and short codes belong to the account, attached to at most one
service; an alpha sender exists only inside a service (Twilio creates its
``AI…`` SID when the text is added), so the same text may be in several
services under several SIDs. What differs between kinds is read from
``kind.spec`` (:mod:`bulkops.kinds`) and :data:`~.minting.MINTING`.

Lookups are dict hits: by SID, and by number (an account's number, or an alpha
sender's text within its service). Each service keeps, per kind, a sorted list
of the SIDs attached to it, so a list page is a bisect and a slice, never a
scan. The state is saved and loaded by :mod:`.state` (format in ``README.md``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..config import check_positive
from ..model import SERVICE_SID, SenderKind
from . import problems
from .minting import sid_for, twilio_time
from .senders import Sender, Senders

#: The sandbox's account SID ("5a4db0c5" reads "sandbox"); safe to print.
DEFAULT_ACCOUNT_SID = "AC" + "5a4db0c5" * 4
#: The sandbox's auth token; a fixed, public, fake value.
DEFAULT_AUTH_TOKEN = "sandbox-auth-token-not-a-secret"
#: Twilio's limit on the phone numbers and short codes one Messaging Service holds
#: (error 21714); alpha senders do not count.
MAX_SENDERS_PER_SERVICE = 400

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")


class World:
    """Everything the sandbox knows; mutated only by the app's handlers (and seeding)."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        api_keys: Mapping[str, str] | None = None,
        max_senders_per_service: int = MAX_SENDERS_PER_SERVICE,
    ) -> None:
        if not ACCOUNT_SID.fullmatch(account_sid):
            raise ValueError(f"account_sid must match {ACCOUNT_SID.pattern}, got {account_sid!r}")
        if not auth_token:
            raise ValueError("auth_token must not be empty")
        check_positive("max_senders_per_service", max_senders_per_service)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_keys: dict[str, str] = {}
        self.max_senders_per_service = max_senders_per_service
        #: service SID → sender kind → sorted SIDs attached to it.
        self.services: dict[str, dict[SenderKind, list[str]]] = {}
        self._senders = Senders()
        #: sender SID → sender: the account's phone numbers and short codes, and
        #: every alpha sender in a service.
        self.senders: dict[str, Sender] = self._senders.by_sid
        #: How many alpha senders were ever created; part of each new ``AI…`` SID.
        self.alpha_senders_created = 0
        for key_sid, secret in (api_keys or {}).items():
            self.add_api_key(key_sid, secret)

    # -- credentials ---------------------------------------------------------------

    def add_api_key(self, key_sid: str, secret: str) -> None:
        """Let ``key_sid``/``secret`` authenticate for this account, as a Twilio API key."""
        if not API_KEY_SID.fullmatch(key_sid):
            raise ValueError(f"API key SID must match {API_KEY_SID.pattern}, got {key_sid!r}")
        if not secret:
            raise ValueError("API key secret must not be empty")
        self.api_keys[key_sid] = secret

    def credentials_ok(self, username: str, password: str) -> bool:
        """True for the account SID + auth token, or an API key + its secret."""
        if username == self.account_sid:
            return password == self.auth_token
        return self.api_keys.get(username) == password

    # -- seeding -------------------------------------------------------------------

    def seed(
        self,
        *,
        service_sids: Iterable[str] = (),
        short_code_sids: Iterable[str] = (),
        phone_number_sids: Iterable[str] = (),
        now_s: float | None = None,
    ) -> None:
        """Make these services, short codes and phone numbers exist, attached to nothing.

        SIDs that already exist are left as they are. Raises ValueError for a
        malformed SID.
        """
        for sid in service_sids:
            self.add_service(sid)
        self.seed_senders(SenderKind.SHORT_CODE, short_code_sids, now_s=now_s)
        self.seed_senders(SenderKind.PHONE_NUMBER, phone_number_sids, now_s=now_s)

    def add_service(self, sid: str) -> None:
        """Make the Messaging Service ``sid`` exist (no-op if it does)."""
        if not SERVICE_SID.fullmatch(sid):
            raise ValueError(f"service SID must match {SERVICE_SID.pattern}, got {sid!r}")
        self.services.setdefault(sid, {})

    def seed_senders(
        self, kind: SenderKind, values: Iterable[str], *, now_s: float | None = None
    ) -> list[str]:
        """Put senders of ``kind`` on the account, attached to nothing; returns their SIDs.

        Each value is a SID (it gets a number derived from it, e.g. ``12345`` or
        ``+14155550100``) or a number (it gets a SID derived from it). A SID or
        number the account already has is left as it is. Raises ValueError for a
        value that is neither, and for alpha senders, which exist only in a
        service (attach them by text with :meth:`attach`).
        """
        return self._senders.seed(kind, values, now_s=now_s)

    def add_sender(
        self,
        kind: SenderKind,
        sid: str,
        number: str,
        *,
        service_sid: str | None = None,
        now_s: float | None = None,
    ) -> Sender:
        """Register one sender exactly as given, in ``service_sid``'s pool if given; returns it.

        No rule of Twilio's is applied (see :meth:`attach` for those): this is
        for seeding and for loading a state. Raises ValueError for an unknown
        service, and as :meth:`.Senders.add` does (a malformed or taken SID, a
        taken number).
        """
        if service_sid is not None and service_sid not in self.services:
            raise ValueError(f"{sid} is attached to unknown {service_sid}")
        sender = self._senders.add(kind, sid, number, service_sid=service_sid, now_s=now_s)
        if service_sid is not None:
            bisect.insort(self.services[service_sid].setdefault(kind, []), sid)
        return sender

    # -- the operations the API exposes ----------------------------------------------

    def attached(self, service_sid: str, kind: SenderKind, sid: str) -> Sender | None:
        """The sender ``sid`` if it is attached to ``service_sid``, else None."""
        sender = self.senders.get(sid)
        if sender is None or sender.kind is not kind or sender.service_sid != service_sid:
            return None
        return sender

    def by_number(
        self, kind: SenderKind, number: str, *, service_sid: str | None = None
    ) -> Sender | None:
        """The account's sender with this number, or the alpha sender with this text in
        ``service_sid``; None if there is none."""
        return self._senders.find(kind, number, service_sid=service_sid)

    def attach(
        self, service_sid: str, kind: SenderKind, value: str, *, now_s: float | None = None
    ) -> Sender:
        """Add a sender to an existing service as Twilio's create call does; returns it.

        ``value`` is the create call's form value (``kind.create_param``): a SID,
        or an alpha sender's text. Raises :class:`~.problems.TwilioProblem`:
        400/21709 for text that is no alpha sender ID, 400/80303 for a SID the
        account does not own, 409/21710 when it is already in this service,
        409/21712 when it is in another, 412/21714 when the service holds
        ``max_senders_per_service`` phone numbers and short codes already.
        """
        claim = self._create_by_text if kind.spec.creates_by_text else self._claim
        sender = claim(service_sid, kind, value, now_s)
        bisect.insort(self.services[service_sid].setdefault(kind, []), sender.sid)
        return sender

    def _claim(self, service_sid: str, kind: SenderKind, sid: str, now_s: float | None) -> Sender:
        sender = self.senders.get(sid)
        if sender is None or sender.kind is not kind:
            raise problems.not_on_account(sid)
        if sender.service_sid == service_sid:
            raise problems.already_in_service(sid)
        if sender.service_sid is not None:
            raise problems.in_another_service(sid)
        self._check_pool(service_sid, kind)
        sender.service_sid = service_sid
        sender.date_updated = twilio_time(now_s)
        return sender

    def _create_by_text(
        self, service_sid: str, kind: SenderKind, text: str, now_s: float | None
    ) -> Sender:
        if not kind.spec.number_pattern.fullmatch(text):
            raise problems.invalid_alpha_sender(text)
        if self.by_number(kind, text, service_sid=service_sid) is not None:
            raise problems.already_in_service(text)
        self._check_pool(service_sid, kind)
        sid = sid_for(kind, service_sid, text, str(self.alpha_senders_created))
        while sid in self.senders:  # a 128-bit collision: never, but never a duplicate either
            sid = sid_for(kind, sid)
        self.alpha_senders_created += 1
        return self._senders.add(kind, sid, text, service_sid=service_sid, now_s=now_s)

    def _check_pool(self, service_sid: str, kind: SenderKind) -> None:
        if kind.spec.in_sender_pool and self.pool_size(service_sid) >= self.max_senders_per_service:
            raise problems.pool_full(self.max_senders_per_service)

    def detach(
        self, service_sid: str, kind: SenderKind, sid: str, *, now_s: float | None = None
    ) -> bool:
        """Remove the sender from the service; False if it was not attached there.

        An alpha sender ceases to exist (its SID was the service's); a phone
        number or short code stays on the account, attached to nothing.
        """
        sender = self.attached(service_sid, kind, sid)
        if sender is None:
            return False
        pool = self.services[service_sid][kind]
        del pool[bisect.bisect_left(pool, sid)]
        if kind.spec.creates_by_text:
            self._senders.remove(sender)
            return True
        sender.service_sid = None
        sender.date_updated = twilio_time(now_s)
        return True

    def pool(self, service_sid: str, kind: SenderKind) -> list[str]:
        """The sorted SIDs of ``kind`` attached to the service (do not mutate)."""
        return self.services[service_sid].get(kind, [])

    def pool_size(self, service_sid: str) -> int:
        """The senders counting toward the service's limit: phone numbers and short codes."""
        pools = self.services[service_sid]
        return sum(len(sids) for kind, sids in pools.items() if kind.spec.in_sender_pool)

    def account_senders(self, kind: SenderKind) -> list[str]:
        """The sorted SIDs of the account's senders of ``kind``, attached or not (do not mutate)."""
        return self._senders.sorted_sids(kind)

    def summary(self) -> dict[str, int]:
        """Counts for the stats endpoint."""
        attached = sum(len(p) for pools in self.services.values() for p in pools.values())
        return {"services": len(self.services), "senders": len(self.senders), "attached": attached}

    # -- persistence (see state.py) ----------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The whole state as the JSON document :meth:`save` writes."""
        from .state import world_document

        return world_document(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> World:
        """Rebuild a world from :meth:`to_json`'s document; raises ValueError if malformed."""
        from .state import world_from_document

        return world_from_document(doc)

    @classmethod
    def load(cls, path: str | Path) -> World:
        """Read a state file; raises :class:`~bulkops.errors.UsageError` naming it if unusable."""
        from .state import load_world

        return load_world(path)

    def save(self, path: str | Path) -> None:
        """Write the state file atomically; OSError if it cannot."""
        from .state import save_world

        save_world(self, path)
