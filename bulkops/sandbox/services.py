"""The account's Messaging Services, Messaging v1 (spec: ``twilio_messaging_v1.json``)::

    GET /v1/Services        (PageSize, Page, PageToken) → 200, items under ``services``
    GET /v1/Services/{Sid}  → 200, the service; 400/21421 malformed SID; 404/20404 unknown

Items are the spec's ``messaging.v1.service``. The sandbox keeps no settings of
a service, so each has Twilio's defaults for a new one (the spec's
``readFull`` example), and a name and dates derived from its SID. Paging is
every listing's (:mod:`.paging`), by SID, links in ``meta`` as URLs.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..model import SERVICE_SID
from . import paging
from .context import WORLD, base_url, json_response
from .messaging import service_in_path

#: The route's path; also its template (it has no parameters).
SERVICES_PATH = "/v1/Services"
#: When every sandbox service says it was created: the sandbox keeps no history of services.
_CREATED = "2015-07-30T20:12:31Z"


def add_routes(router: web.UrlDispatcher) -> None:
    """Serve ``GET /v1/Services`` and ``GET /v1/Services/{Sid}`` (the spec's path templates)."""
    router.add_get(SERVICES_PATH, _list, allow_head=False)
    router.add_get(SERVICES_PATH + "/{Sid}", _fetch, allow_head=False)


def render(service_sid: str, *, account_sid: str, base_url: str) -> dict[str, Any]:
    """A service as ``messaging.v1.service``: its SID, a name from it, a new service's defaults."""
    url = f"{base_url}{SERVICES_PATH}/{service_sid}"
    return {
        "sid": service_sid,
        "account_sid": account_sid,
        "friendly_name": f"Sandbox service {service_sid[-6:]}",
        "date_created": _CREATED,
        "date_updated": _CREATED,
        "inbound_request_url": None,
        "inbound_method": "POST",
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": None,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": True,
        "area_code_geomatch": True,
        "synchronous_validation": False,
        "validity_period": 14400,
        "url": url,
        "links": {
            "phone_numbers": f"{url}/PhoneNumbers",
            "short_codes": f"{url}/ShortCodes",
            "alpha_senders": f"{url}/AlphaSenders",
            "messages": f"{url}/Messages",
            "us_app_to_person": f"{url}/Compliance/Usa2p",
            "us_app_to_person_usecases": f"{url}/Compliance/Usa2p/Usecases",
            "channel_senders": f"{url}/ChannelSenders",
        },
        "usecase": "undeclared",
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": False,
    }


async def _fetch(request: web.Request) -> web.StreamResponse:
    """The service, or 400/21421 for a malformed SID and 404/20404 for an unknown one."""
    sid, world = service_in_path(request, "Sid"), request.app[WORLD]
    return json_response(render(sid, account_sid=world.account_sid, base_url=base_url(request)))


async def _list(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD]
    page = paging.window(request.query, sorted(world.services), SERVICE_SID)
    base = base_url(request)
    here = f"{base}{SERVICES_PATH}?PageSize={page.size}"
    items = [render(sid, account_sid=world.account_sid, base_url=base) for sid in page.sids]
    return json_response({"services": items, "meta": page.meta(here, "services")})


__all__ = ["SERVICES_PATH", "add_routes", "render"]
