"""The account's own listings in API 2010-04-01 (spec: ``twilio_api_v2010.json``)::

    GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json  (filter PhoneNumber)
    GET /2010-04-01/Accounts/{AccountSid}/SMS/ShortCodes.json        (filter ShortCode)

with the items under ``incoming_phone_numbers`` and ``short_codes``.

One listing per kind that has ``kind.spec.account_listing``; every phone number
and short code on the account is in it, attached to a service or not. The
filter matches part of the number, ``*`` standing for any digit, as Twilio's
docs say. Paging is the same as in Messaging v1 (:mod:`.paging`), but the page
URIs are paths on the same host, at the top level: ``first_page_uri``,
``next_page_uri``, ``previous_page_uri``, ``uri``, with ``page``,
``page_size``, ``start`` and ``end``. Another account's SID is 404/20404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..model import AccountListing, SenderKind
from . import paging, problems
from .context import WORLD, json_response
from .load import Handler
from .senders import Sender


def add_routes(router: web.UrlDispatcher, kind: SenderKind) -> None:
    """Serve ``kind``'s account listing, if it has one (alpha senders have none)."""
    listing = kind.spec.account_listing
    if listing is not None:
        router.add_get(listing.path, _list(kind, listing), allow_head=False)


def rfc2822(twilio_time: str) -> str:
    """``2015-07-30T20:12:31Z`` as 2010-04-01 writes dates: ``Thu, 30 Jul 2015 20:12:31 +0000``."""
    moment = datetime.strptime(twilio_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return format_datetime(moment)


def friendly_name(number: str) -> str:
    """How Twilio names a number by default: ``(415) 555-0100`` for +1, else the number."""
    if len(number) == 12 and number.startswith("+1"):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _incoming_phone_number(sender: Sender, account_sid: str, uri: str) -> dict[str, Any]:
    """``api.v2010.account.incoming_phone_number``: what a sandbox number has, nulls elsewhere."""
    capabilities = set(sender.capabilities)
    return {
        "account_sid": account_sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {
            "voice": "Voice" in capabilities,
            "sms": "SMS" in capabilities,
            "mms": "MMS" in capabilities,
            "fax": False,
        },
        "date_created": rfc2822(sender.date_created),
        "date_updated": rfc2822(sender.date_updated),
        "friendly_name": friendly_name(sender.number),
        "identity_sid": None,
        "phone_number": sender.number,
        "origin": "twilio",
        "sid": sender.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "status_callback": None,
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": uri,
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_url": None,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    }


def _short_code(sender: Sender, account_sid: str, uri: str) -> dict[str, Any]:
    """``api.v2010.account.short_code``."""
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "date_created": rfc2822(sender.date_created),
        "date_updated": rfc2822(sender.date_updated),
        "friendly_name": sender.number,
        "short_code": sender.number,
        "sid": sender.sid,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "uri": uri,
    }


#: The 2010-04-01 resource of each kind that has an account listing.
RESOURCES: dict[SenderKind, Callable[[Sender, str, str], dict[str, Any]]] = {
    SenderKind.PHONE_NUMBER: _incoming_phone_number,
    SenderKind.SHORT_CODE: _short_code,
}


def render(sender: Sender, *, account_sid: str, listing: AccountListing) -> dict[str, Any]:
    """The sender as its 2010-04-01 resource, e.g. ``api.v2010.account.incoming_phone_number``."""
    collection = listing.path_for(account_sid).removesuffix(".json")
    return RESOURCES[sender.kind](sender, account_sid, f"{collection}/{sender.sid}.json")


def number_filter(pattern: str) -> re.Pattern[str]:
    """The filter ``PhoneNumber``/``ShortCode`` as a search: part of a number, ``*`` any digit."""
    return re.compile("".join("[0-9]" if char == "*" else re.escape(char) for char in pattern))


def _list(kind: SenderKind, listing: AccountListing) -> Handler:
    async def list_page(request: web.Request) -> web.StreamResponse:
        world = request.app[WORLD]
        if request.match_info["AccountSid"] != world.account_sid:
            raise problems.not_found(request.path)
        sids = world.account_senders(kind)
        wanted = request.query.get(listing.filter_param)
        filters = ""
        if wanted is not None:
            search = number_filter(wanted).search
            senders = world.senders
            sids = [sid for sid in sids if search(senders[sid].number)]
            filters = urlencode({listing.filter_param: wanted}) + "&"
        page = paging.window(request.query, sids, kind.sid_pattern)
        here = f"{request.path}?{filters}PageSize={page.size}"
        items = [
            render(world.senders[sid], account_sid=world.account_sid, listing=listing)
            for sid in page.sids
        ]
        start = page.page * page.size
        body = {
            listing.list_key: items,
            "end": start + len(items) - 1 if items else start,
            "first_page_uri": page.first_url(here),
            "next_page_uri": page.next_url(here),
            "page": page.page,
            "page_size": page.size,
            "previous_page_uri": page.previous_url(here),
            "start": start,
            "uri": page.url(here),
        }
        return json_response(body)

    return list_page
