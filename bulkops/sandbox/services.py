"""``GET /v1/Services/{Sid}``: a Messaging Service as Twilio's resource JSON, or 404.

Field names and shapes are those of Twilio's Messaging v1 OpenAPI spec
(``messaging.v1.service``); the settings are fixed: the sandbox keeps none.
The service's ``links`` name every kind's sender collection.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..model import SenderKind
from .context import WORLD, base_url, json_response
from .messaging import service_in_path


def add_routes(router: web.UrlDispatcher) -> None:
    """Serve ``GET /v1/Services/{Sid}`` (the spec's path template)."""
    router.add_get("/v1/Services/{Sid}", _fetch_service, allow_head=False)


async def _fetch_service(request: web.Request) -> web.StreamResponse:
    """The service, or 400/21421 for a malformed SID and 404/20404 for an unknown one."""
    sid, world = service_in_path(request, "Sid"), request.app[WORLD]
    return json_response(
        render_service(sid, account_sid=world.account_sid, base_url=base_url(request))
    )


def render_service(sid: str, *, account_sid: str, base_url: str) -> dict[str, Any]:
    """The service as Twilio's resource JSON (``messaging.v1.service``), with fixed settings."""
    url = f"{base_url}/v1/Services/{sid}"
    links = {kind.list_key: f"{url}/{kind.collection}" for kind in SenderKind}
    return {
        "sid": sid,
        "account_sid": account_sid,
        "friendly_name": f"Sandbox service {sid[-6:]}",
        "date_created": "2026-01-01T00:00:00Z",
        "date_updated": "2026-01-01T00:00:00Z",
        "inbound_request_url": None,
        "inbound_method": "POST",
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": None,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": False,
        "area_code_geomatch": True,
        "synchronous_validation": False,
        "validity_period": 14400,
        "url": url,
        "links": links,
        "usecase": "marketing",
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": False,
    }


__all__ = ["add_routes", "render_service"]
