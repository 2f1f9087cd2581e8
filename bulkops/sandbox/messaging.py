"""Messaging v1's sender routes, the same four for every kind (spec: ``twilio_messaging_v1.json``)::

    POST   /v1/Services/{ServiceSid}/{Collection}        create (form: kind.create_param) → 201
    GET    /v1/Services/{ServiceSid}/{Collection}        list (PageSize, Page, PageToken) → 200
    GET    /v1/Services/{ServiceSid}/{Collection}/{Sid}  fetch → 200
    DELETE /v1/Services/{ServiceSid}/{Collection}/{Sid}  delete → 204

``{Collection}`` is ``ShortCodes``, ``PhoneNumbers`` or ``AlphaSenders``. The
create call takes a SID (``ShortCodeSid``, ``PhoneNumberSid``) or, for an alpha
sender, the text (``AlphaSender``); the world applies Twilio's rules. Bodies
are the spec's ``messaging.v1.service.{short_code,phone_number,alpha_sender}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..model import SERVICE_SID, SenderKind
from . import paging, problems
from .context import WORLD, base_url, json_response
from .load import Handler
from .senders import Sender


def add_routes(router: web.UrlDispatcher, kind: SenderKind) -> None:
    """Serve ``kind``'s four routes, with the spec's path templates."""
    collection = f"/v1/Services/{{ServiceSid}}/{kind.collection}"
    router.add_post(collection, _create(kind))
    router.add_get(collection, _list(kind), allow_head=False)
    router.add_get(collection + "/{Sid}", _fetch(kind), allow_head=False)
    router.add_delete(collection + "/{Sid}", _delete(kind))


def render(sender: Sender, *, account_sid: str, base_url: str) -> dict[str, Any]:
    """The sender as Messaging v1's resource JSON (e.g. ``messaging.v1.service.phone_number``).

    ``country_code`` appears only for kinds whose resource has it (not alpha senders).
    """
    kind = sender.kind
    body: dict[str, Any] = {
        "sid": sender.sid,
        "account_sid": account_sid,
        "service_sid": sender.service_sid,
        "date_created": sender.date_created,
        "date_updated": sender.date_updated,
        kind.number_field: sender.number,
    }
    if sender.country_code is not None:
        body["country_code"] = sender.country_code
    body["capabilities"] = list(sender.capabilities)
    body["url"] = f"{base_url}/v1/Services/{sender.service_sid}/{kind.collection}/{sender.sid}"
    return body


def service_in_path(request: web.Request, param: str = "ServiceSid") -> str:
    """The path's service SID (``param``), checked: well-formed (400/21421), exists (404/20404)."""
    sid = request.match_info[param]
    if not SERVICE_SID.fullmatch(sid):
        raise problems.invalid_sid("ServiceSid", sid)
    if sid not in request.app[WORLD].services:
        raise problems.not_found(request.path)
    return sid


def _create_value(kind: SenderKind, value: object) -> str:
    """The create call's form value: present (20001) and, unless text, a SID (21421)."""
    param = kind.create_param
    if value is None or value == "":
        raise problems.missing_param(param)
    if not isinstance(value, str):
        raise problems.invalid_sid(param, str(value))
    if not kind.spec.creates_by_text and not kind.sid_pattern.fullmatch(value):
        raise problems.invalid_sid(param, value)
    return value


def _create(kind: SenderKind) -> Handler:
    async def create(request: web.Request) -> web.StreamResponse:
        service_sid = service_in_path(request)
        form = await request.post()
        value = _create_value(kind, form.get(kind.create_param))
        world = request.app[WORLD]
        sender = world.attach(service_sid, kind, value)
        body = render(sender, account_sid=world.account_sid, base_url=base_url(request))
        return json_response(body, status=201)

    return create


def _fetch(kind: SenderKind) -> Handler:
    async def fetch(request: web.Request) -> web.StreamResponse:
        world = request.app[WORLD]
        sender = world.attached(service_in_path(request), kind, request.match_info["Sid"])
        if sender is None:
            raise problems.not_found(request.path)
        return json_response(
            render(sender, account_sid=world.account_sid, base_url=base_url(request))
        )

    return fetch


def _delete(kind: SenderKind) -> Handler:
    async def delete(request: web.Request) -> web.StreamResponse:
        if not request.app[WORLD].detach(service_in_path(request), kind, request.match_info["Sid"]):
            raise problems.not_found(request.path)
        return web.Response(status=204)

    return delete


def _list(kind: SenderKind) -> Handler:
    async def list_page(request: web.Request) -> web.StreamResponse:
        service_sid = service_in_path(request)
        world = request.app[WORLD]
        page = paging.window(request.query, world.pool(service_sid, kind), kind.sid_pattern)
        base = base_url(request)
        here = f"{base}{request.path}?PageSize={page.size}"
        senders = world.senders
        items = [
            render(senders[sid], account_sid=world.account_sid, base_url=base) for sid in page.sids
        ]
        return json_response({kind.list_key: items, "meta": page.meta(here, kind.list_key)})

    return list_page
