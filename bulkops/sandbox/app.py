"""The aiohttp application: Twilio's Messaging v1 sender routes, auth, errors, paging.

Routes, per :class:`~bulkops.model.SenderKind` (``{Collection}`` = ``ShortCodes``)::

    POST   /v1/Services/{ServiceSid}/{Collection}        create (form: ShortCodeSid) → 201
    GET    /v1/Services/{ServiceSid}/{Collection}        list (PageSize, Page, PageToken) → 200
    GET    /v1/Services/{ServiceSid}/{Collection}/{Sid}  fetch → 200
    DELETE /v1/Services/{ServiceSid}/{Collection}/{Sid}  delete → 204

and, outside the API and without authentication::

    GET    /sandbox/stats         counters and per-second timeline (see stats.py)
    POST   /sandbox/stats/reset   zero the counters, restart the timeline
    GET    /sandbox/world         services and senders (no credentials)

Every ``/v1`` request needs HTTP Basic auth: the account SID and auth token, or
an API key SID (``SK…``) and its secret. List pages are ordered by SID; a
``PageToken`` is ``PA``/``PB`` + the last/first SID of the page it continues
from, so deletes between pages never make a client skip an item. ``Page``
without a token is an offset of ``Page × PageSize``. URLs in bodies use the
configured base URL, or else the scheme and ``Host`` of the request.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from typing import Any

from aiohttp import web

from ..model import SERVICE_SID, SenderKind
from . import problems
from .load import Handler, LoadGate
from .problems import TwilioProblem
from .profile import LoadProfile
from .stats import Stats
from .world import Sender, World

WORLD = web.AppKey("world", World)
STATS = web.AppKey("stats", Stats)
GATE = web.AppKey("gate", LoadGate)
BASE_URL = web.AppKey("base_url", str)

#: The resource field holding the sender's number, per kind.
NUMBER_FIELD = {SenderKind.SHORT_CODE: "short_code"}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_JSON = "application/json"
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
    for kind in SenderKind:
        collection = f"/v1/Services/{{service_sid}}/{kind.collection}"
        app.router.add_post(collection, _create(kind))
        app.router.add_get(collection, _list(kind), allow_head=False)
        app.router.add_get(collection + "/{sid}", _fetch(kind), allow_head=False)
        app.router.add_delete(collection + "/{sid}", _delete(kind))
    app.router.add_get("/sandbox/stats", _stats, allow_head=False)
    app.router.add_post("/sandbox/stats/reset", _reset_stats)
    app.router.add_get("/sandbox/world", _world, allow_head=False)
    return app


# -- auth and errors ---------------------------------------------------------------


def _twilio_middleware(world: World) -> Any:
    """Check credentials on ``/v1``; turn refusals into Twilio's error bodies."""

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


# -- the API -----------------------------------------------------------------------


def _json(doc: Any, *, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(doc).encode(), content_type=_JSON)


def _base(request: web.Request) -> str:
    return request.app[BASE_URL] or f"{request.scheme}://{request.host}"


def _service(request: web.Request) -> str:
    """The path's service SID, checked to be well-formed and to exist."""
    sid = request.match_info["service_sid"]
    if not SERVICE_SID.match(sid):
        raise problems.invalid_sid("ServiceSid", sid)
    if sid not in request.app[WORLD].services:
        raise problems.not_found(request.path)
    return sid


def render(sender: Sender, *, account_sid: str, base_url: str) -> dict[str, Any]:
    """The sender as Twilio's resource JSON (``messaging.v1.service.short_code``)."""
    kind = sender.kind
    return {
        "sid": sender.sid,
        "account_sid": account_sid,
        "service_sid": sender.service_sid,
        "date_created": sender.date_created,
        "date_updated": sender.date_updated,
        NUMBER_FIELD[kind]: sender.number,
        "country_code": sender.country_code,
        "capabilities": list(sender.capabilities),
        "url": f"{base_url}/v1/Services/{sender.service_sid}/{kind.collection}/{sender.sid}",
    }


def _create(kind: SenderKind) -> Handler:
    async def create(request: web.Request) -> web.StreamResponse:
        service_sid = _service(request)
        form = await request.post()
        sid = form.get(kind.create_param)
        if sid is None or sid == "":
            raise problems.missing_param(kind.create_param)
        if not isinstance(sid, str) or not kind.sid_pattern.match(sid):
            raise problems.invalid_sid(kind.create_param, str(sid))
        world = request.app[WORLD]
        sender = world.attach(service_sid, kind, sid)
        body = render(sender, account_sid=world.account_sid, base_url=_base(request))
        return _json(body, status=201)

    return create


def _fetch(kind: SenderKind) -> Handler:
    async def fetch(request: web.Request) -> web.StreamResponse:
        world = request.app[WORLD]
        sender = world.attached(_service(request), kind, request.match_info["sid"])
        if sender is None:
            raise problems.not_found(request.path)
        return _json(render(sender, account_sid=world.account_sid, base_url=_base(request)))

    return fetch


def _delete(kind: SenderKind) -> Handler:
    async def delete(request: web.Request) -> web.StreamResponse:
        if not request.app[WORLD].detach(_service(request), kind, request.match_info["sid"]):
            raise problems.not_found(request.path)
        return web.Response(status=204)

    return delete


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise problems.bad_page_size(raw) from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise problems.bad_page_size(raw)
    return size


def _page_number(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        page = int(raw)
    except ValueError:
        raise problems.bad_page(raw) from None
    if page < 0:
        raise problems.bad_page(raw)
    return page


def _list(kind: SenderKind) -> Handler:
    token_pattern = re.compile(r"^P([AB])(" + kind.sid_pattern.pattern.strip("^$") + ")$")

    async def list_page(request: web.Request) -> web.StreamResponse:
        service_sid = _service(request)
        query = request.query
        size = _page_size(query.get("PageSize"))
        page = _page_number(query.get("Page"))
        token = query.get("PageToken") or None
        world = request.app[WORLD]
        pool = world.pool(service_sid, kind)
        if token is None:
            start = min(page * size, len(pool))
            end = min(start + size, len(pool))
        else:
            match = token_pattern.match(token)
            if match is None:
                raise problems.bad_page_token(token)
            direction, sid = match.groups()
            if direction == "A":
                start = bisect.bisect_right(pool, sid)
                end = min(start + size, len(pool))
            else:
                end = bisect.bisect_left(pool, sid)
                start = max(0, end - size)
        sids = pool[start:end]
        base = _base(request)
        here = f"{base}{request.path}?PageSize={size}"
        senders = world.senders
        items = [render(senders[sid], account_sid=world.account_sid, base_url=base) for sid in sids]
        next_url = prev_url = None
        if sids and end < len(pool):
            next_url = f"{here}&Page={page + 1}&PageToken=PA{sids[-1]}"
        if sids and start > 0:
            prev_url = f"{here}&Page={max(page - 1, 0)}&PageToken=PB{sids[0]}"
        meta = {
            "page": page,
            "page_size": size,
            "first_page_url": f"{here}&Page=0",
            "previous_page_url": prev_url,
            "next_page_url": next_url,
            "key": kind.list_key,
            "url": f"{here}&Page={page}" + (f"&PageToken={token}" if token else ""),
        }
        return _json({kind.list_key: items, "meta": meta})

    return list_page


# -- sandbox endpoints -------------------------------------------------------------


async def _stats(request: web.Request) -> web.StreamResponse:
    return _json(request.app[STATS].snapshot(world=request.app[WORLD].summary()))


async def _reset_stats(request: web.Request) -> web.StreamResponse:
    request.app[STATS].reset()
    request.app[GATE].restart_schedule()
    return _json(request.app[STATS].snapshot(world=request.app[WORLD].summary()))


async def _world(request: web.Request) -> web.StreamResponse:
    doc = request.app[WORLD].to_json()
    for secret in ("auth_token", "api_keys"):
        doc.pop(secret, None)
    return _json(doc)
