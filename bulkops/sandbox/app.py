"""The aiohttp application: Twilio's auth and error bodies around the sandbox's routes.

Routes, for every :class:`~bulkops.model.SenderKind` (the spec's path templates):

* Messaging v1, ``GET /v1/Services``: the account's Messaging Services, paged
  (:mod:`.services`);
* Messaging v1, ``/v1/Services/{ServiceSid}/{Collection}[/{Sid}]``: create,
  list, fetch, delete of short codes, phone numbers and alpha senders
  (:mod:`.messaging`);
* API 2010-04-01, ``/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json``
  and ``…/SMS/ShortCodes.json``: the account's own numbers (:mod:`.accounts`);
* Messaging v1, ``GET /v1/Services/{Sid}``: the service itself, or 404 if
  unknown (:mod:`.services`);

and, outside the API and without authentication::

    GET    /sandbox/stats         counters and per-second timeline (see stats.py)
    POST   /sandbox/stats/reset   zero the counters, restart the timeline
    GET    /sandbox/world         services and senders (no credentials)

Every API request needs HTTP Basic auth: the account SID and auth token, or an
API key SID (``SK…``) and its secret. The load middleware (:mod:`.load`) comes
first on every API route: throttling, faults and held writes apply to every
kind's create and delete alike. URLs in v1 bodies use the configured
base URL, or else the scheme and ``Host`` of the request; 2010-04-01 bodies
carry paths, as Twilio's do.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from ..model import SenderKind
from . import accounts, messaging, problems, services
from .context import BASE_URL, GATE, STATS, WORLD, json_response
from .load import Handler, LoadGate
from .problems import TwilioProblem
from .profile import LoadProfile
from .stats import Stats
from .world import World

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Basic realm="Twilio API"'}


def build_app(
    world: World,
    *,
    load: LoadProfile | None = None,
    stats: Stats | None = None,
    base_url: str = "",
) -> web.Application:
    """The sandbox as an aiohttp application, to run or to test with aiohttp's test client.

    ``base_url`` (e.g. ``http://127.0.0.1:8080``) fixes the URLs written into
    bodies; empty means "from each request's scheme and Host".
    """
    stats = stats or Stats()
    gate = LoadGate(load or LoadProfile(), stats)
    app = web.Application(middlewares=[gate.middleware, _twilio_middleware(world)])
    app[WORLD] = world
    app[STATS] = stats
    app[GATE] = gate
    app[BASE_URL] = base_url.rstrip("/")
    app.on_shutdown.append(gate.on_shutdown)
    services.add_routes(app.router)
    for kind in SenderKind:
        messaging.add_routes(app.router, kind)
        accounts.add_routes(app.router, kind)
    services.add_routes(app.router)
    app.router.add_get("/sandbox/stats", _stats, allow_head=False)
    app.router.add_post("/sandbox/stats/reset", _reset_stats)
    app.router.add_get("/sandbox/world", _world, allow_head=False)
    return app


def _twilio_middleware(world: World) -> Any:
    """Check credentials on the API; turn refusals into Twilio's error bodies."""

    @web.middleware
    async def twilio(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if not request.path.startswith("/sandbox/") and not _authorized(request, world):
                return problems.authenticate().response(headers=_UNAUTHORIZED_HEADERS)
            return await handler(request)
        except TwilioProblem as problem:
            return problem.response()
        except web.HTTPNotFound:
            return problems.not_found(request.path).response()
        except web.HTTPMethodNotAllowed:
            return problems.method_not_allowed(request.method).response()

    return twilio


def _authorized(request: web.Request, world: World) -> bool:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, colon, password = decoded.partition(":")
    return bool(colon) and world.credentials_ok(username, password)


async def _stats(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[STATS].snapshot(world=request.app[WORLD].summary()))


async def _reset_stats(request: web.Request) -> web.StreamResponse:
    request.app[STATS].reset()
    request.app[GATE].restart_schedule()
    return json_response(request.app[STATS].snapshot(world=request.app[WORLD].summary()))


async def _world(request: web.Request) -> web.StreamResponse:
    doc = request.app[WORLD].to_json()
    for secret in ("auth_token", "api_keys"):
        doc.pop(secret, None)
    return json_response(doc)
