"""The world as a JSON state file (``--state``): written atomically, read back whole.

The format, ``bulkops-sandbox-world/1``, is described in ``README.md`` next to
this module. Files written before phone numbers and alpha senders existed load
unchanged: they hold only short codes and lack ``alpha_senders_created``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..files import atomic_write
from ..model import SenderKind
from .world import MAX_SENDERS_PER_SERVICE, World

FORMAT = "bulkops-sandbox-world/1"


def world_document(world: World) -> dict[str, Any]:
    """The whole state as one JSON-ready document (secrets included: it is the state)."""
    return {
        "format": FORMAT,
        "account_sid": world.account_sid,
        "auth_token": world.auth_token,
        "api_keys": dict(sorted(world.api_keys.items())),
        "max_senders_per_service": world.max_senders_per_service,
        "alpha_senders_created": world.alpha_senders_created,
        "services": sorted(world.services),
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
            for s in sorted(world.senders.values(), key=lambda s: s.sid)
        ],
    }


def world_from_document(doc: Mapping[str, Any]) -> World:
    """Rebuild a world from :func:`world_document`'s document; raises ValueError if malformed."""
    try:
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        world = World(
            account_sid=doc["account_sid"],
            auth_token=doc["auth_token"],
            api_keys=doc.get("api_keys") or {},
            max_senders_per_service=doc.get("max_senders_per_service", MAX_SENDERS_PER_SERVICE),
        )
        for sid in doc.get("services", []):
            world.add_service(sid)
        for item in doc.get("senders", []):
            _restore_sender(world, item)
        world.alpha_senders_created = int(
            doc.get("alpha_senders_created", len(world.account_senders(SenderKind.ALPHA_SENDER)))
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed world document ({type(exc).__name__}: {exc})") from None
    return world


def _restore_sender(world: World, item: Mapping[str, Any]) -> None:
    kind = SenderKind(item["kind"])
    service_sid = item.get("service_sid")
    if service_sid is None and kind.spec.creates_by_text:
        raise ValueError(f"{item['sid']}: a {kind.value} exists only in a service")
    sender = world.add_sender(kind, item["sid"], str(item["number"]), service_sid=service_sid)
    country_code = item.get("country_code")
    sender.country_code = None if country_code is None else str(country_code)
    sender.capabilities = tuple(item["capabilities"])
    sender.date_created = str(item["date_created"])
    sender.date_updated = str(item["date_updated"])


def load_world(path: str | Path) -> World:
    """Read a state file; raises :class:`UsageError` naming the file if it is unusable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return world_from_document(json.load(handle))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read sandbox state: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise UsageError(f"{path}: not a sandbox state file: {exc}") from None


def save_world(world: World, path: str | Path) -> None:
    """Write the state file atomically (:func:`bulkops.files.atomic_write`); OSError if not."""
    with atomic_write(Path(path)) as handle:
        json.dump(world_document(world), handle, indent=1)
        handle.write("\n")
