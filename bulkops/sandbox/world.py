"""The sandbox's state: one account, its Messaging Services and its senders.

Lookups are dict hits; each service keeps, per sender kind, a sorted list of the
SIDs attached to it, so a list page is a bisect and a slice, never a scan. The
state can be saved to and loaded from a JSON file (see ``README.md`` next to
this module for the format); saving is atomic.
"""

from __future__ import annotations

import bisect
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import check_positive
from ..errors import UsageError
from ..files import atomic_write
from ..model import SERVICE_SID, SenderKind
from . import problems

#: The sandbox's account SID ("5a4db0c5" reads "sandbox"); safe to print.
DEFAULT_ACCOUNT_SID = "AC" + "5a4db0c5" * 4
#: The sandbox's auth token; a fixed, public, fake value.
DEFAULT_AUTH_TOKEN = "sandbox-auth-token-not-a-secret"
#: Twilio's limit on the senders one Messaging Service holds.
MAX_SENDERS_PER_SERVICE = 400

FORMAT = "bulkops-sandbox-world/1"
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")


def twilio_time(epoch_s: float | None = None) -> str:
    """A timestamp as Twilio's JSON writes it: ``2015-07-30T20:12:31Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


@dataclass(slots=True)
class Sender:
    """One sender on the account, and the service it is attached to, if any."""

    sid: str
    kind: SenderKind
    number: str
    country_code: str
    capabilities: tuple[str, ...]
    date_created: str
    date_updated: str
    service_sid: str | None = None


def derived_number(kind: SenderKind, sid: str) -> str:
    """A deterministic number for a seeded sender, e.g. a 5-digit short code."""
    return str(10000 + int(sid[2:], 16) % 90000)


def derived_capabilities(sid: str) -> tuple[str, ...]:
    """``("SMS",)`` or ``("SMS", "MMS")``, chosen by the SID's last digit."""
    return ("SMS", "MMS") if int(sid[-1], 16) % 2 else ("SMS",)


class World:
    """Everything the sandbox knows; mutated only by the app's handlers."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        api_keys: Mapping[str, str] | None = None,
        max_senders_per_service: int = MAX_SENDERS_PER_SERVICE,
    ) -> None:
        if not ACCOUNT_SID.match(account_sid):
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
        #: sender SID → sender, for every sender on the account.
        self.senders: dict[str, Sender] = {}
        for key_sid, secret in (api_keys or {}).items():
            self.add_api_key(key_sid, secret)

    # -- credentials ---------------------------------------------------------------

    def add_api_key(self, key_sid: str, secret: str) -> None:
        """Let ``key_sid``/``secret`` authenticate for this account, as a Twilio API key."""
        if not API_KEY_SID.match(key_sid):
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
        now_s: float | None = None,
    ) -> None:
        """Make these services and short codes exist, attached to nothing.

        SIDs that already exist are left as they are.
        """
        for sid in service_sids:
            self.add_service(sid)
        self.seed_senders(SenderKind.SHORT_CODE, short_code_sids, now_s=now_s)

    def add_service(self, sid: str) -> None:
        """Make the Messaging Service ``sid`` exist (no-op if it does)."""
        if not SERVICE_SID.match(sid):
            raise ValueError(f"service SID must match {SERVICE_SID.pattern}, got {sid!r}")
        self.services.setdefault(sid, {})

    def seed_senders(
        self, kind: SenderKind, sids: Iterable[str], *, now_s: float | None = None
    ) -> None:
        """Put senders of ``kind`` on the account, with numbers derived from their SIDs."""
        stamp = twilio_time(now_s)
        for sid in sids:
            if not kind.sid_pattern.match(sid):
                raise ValueError(f"{kind.value} SID must match {kind.sid_pattern.pattern}: {sid!r}")
            if sid not in self.senders:
                self.senders[sid] = Sender(
                    sid=sid,
                    kind=kind,
                    number=derived_number(kind, sid),
                    country_code="US",
                    capabilities=derived_capabilities(sid),
                    date_created=stamp,
                    date_updated=stamp,
                )

    # -- the operations the API exposes ----------------------------------------------

    def attached(self, service_sid: str, kind: SenderKind, sid: str) -> Sender | None:
        """The sender ``sid`` if it is attached to ``service_sid``, else None."""
        sender = self.senders.get(sid)
        if sender is None or sender.kind is not kind or sender.service_sid != service_sid:
            return None
        return sender

    def attach(
        self, service_sid: str, kind: SenderKind, sid: str, *, now_s: float | None = None
    ) -> Sender:
        """Attach a sender to an existing service, or raise Twilio's refusal."""
        sender = self.senders.get(sid)
        if sender is None or sender.kind is not kind:
            raise problems.not_on_account(sid)
        if sender.service_sid == service_sid:
            raise problems.already_in_service(sid)
        if sender.service_sid is not None:
            raise problems.in_another_service(sid)
        pools = self.services[service_sid]
        if sum(map(len, pools.values())) >= self.max_senders_per_service:
            raise problems.pool_full(self.max_senders_per_service)
        bisect.insort(pools.setdefault(kind, []), sid)
        sender.service_sid = service_sid
        sender.date_updated = twilio_time(now_s)
        return sender

    def detach(
        self, service_sid: str, kind: SenderKind, sid: str, *, now_s: float | None = None
    ) -> bool:
        """Detach the sender from the service; False if it was not attached there."""
        sender = self.attached(service_sid, kind, sid)
        if sender is None:
            return False
        pool = self.services[service_sid][kind]
        del pool[bisect.bisect_left(pool, sid)]
        sender.service_sid = None
        sender.date_updated = twilio_time(now_s)
        return True

    def pool(self, service_sid: str, kind: SenderKind) -> list[str]:
        """The sorted SIDs of ``kind`` attached to the service (do not mutate)."""
        return self.services[service_sid].get(kind, [])

    def summary(self) -> dict[str, int]:
        """Counts for the stats endpoint."""
        attached = sum(len(p) for pools in self.services.values() for p in pools.values())
        return {"services": len(self.services), "senders": len(self.senders), "attached": attached}

    # -- persistence -----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The whole state as the JSON document ``save`` writes."""
        return {
            "format": FORMAT,
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "api_keys": dict(sorted(self.api_keys.items())),
            "max_senders_per_service": self.max_senders_per_service,
            "services": sorted(self.services),
            "senders": [
                {
                    "sid": s.sid,
                    "kind": s.kind.value,
                    "number": s.number,
                    "country_code": s.country_code,
                    "capabilities": list(s.capabilities),
                    "date_created": s.date_created,
                    "date_updated": s.date_updated,
                    "service_sid": s.service_sid,
                }
                for s in sorted(self.senders.values(), key=lambda s: s.sid)
            ],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> World:
        """Rebuild a world from ``to_json``'s document; raises ValueError if malformed."""
        try:
            if doc.get("format") != FORMAT:
                raise ValueError(f"format is not {FORMAT!r}")
            world = cls(
                account_sid=doc["account_sid"],
                auth_token=doc["auth_token"],
                api_keys=doc.get("api_keys") or {},
                max_senders_per_service=doc.get("max_senders_per_service", MAX_SENDERS_PER_SERVICE),
            )
            for sid in doc.get("services", []):
                world.add_service(sid)
            for item in doc.get("senders", []):
                kind = SenderKind(item["kind"])
                world.seed_senders(kind, [item["sid"]])
                sender = world.senders[item["sid"]]
                sender.number = str(item["number"])
                sender.country_code = str(item["country_code"])
                sender.capabilities = tuple(item["capabilities"])
                sender.date_created = str(item["date_created"])
                sender.date_updated = str(item["date_updated"])
                service_sid = item.get("service_sid")
                if service_sid is not None:
                    if service_sid not in world.services:
                        raise ValueError(f"{item['sid']} is attached to unknown {service_sid}")
                    sender.service_sid = service_sid
                    world.services[service_sid].setdefault(kind, []).append(sender.sid)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed world document ({type(exc).__name__}: {exc})") from None
        for pools in world.services.values():
            for pool in pools.values():
                pool.sort()
        return world

    @classmethod
    def load(cls, path: str | Path) -> World:
        """Read a state file; raises :class:`UsageError` naming the file if unusable."""
        try:
            with open(path, encoding="utf-8") as handle:
                return cls.from_json(json.load(handle))
        except OSError as exc:
            raise UsageError(f"{path}: cannot read sandbox state: {exc.strerror or exc}") from None
        except ValueError as exc:  # JSONDecodeError is a ValueError
            raise UsageError(f"{path}: not a sandbox state file: {exc}") from None

    def save(self, path: str | Path) -> None:
        """Write the state file atomically (:func:`bulkops.files.atomic_write`); OSError if not."""
        with atomic_write(Path(path)) as handle:
            json.dump(self.to_json(), handle, indent=1)
            handle.write("\n")
