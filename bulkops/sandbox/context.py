"""What every handler of the sandbox shares: the app's keys and how answers are written."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .load import LoadGate
from .stats import Stats
from .world import World

WORLD = web.AppKey("world", World)
STATS = web.AppKey("stats", Stats)
GATE = web.AppKey("gate", LoadGate)
BASE_URL = web.AppKey("base_url", str)

_JSON = "application/json"


def json_response(doc: Any, *, status: int = 200) -> web.Response:
    """``doc`` as an ``application/json`` answer."""
    return web.Response(status=status, body=json.dumps(doc).encode(), content_type=_JSON)


def base_url(request: web.Request) -> str:
    """The base of absolute URLs in bodies: the configured one, else the request's origin."""
    return request.app[BASE_URL] or f"{request.scheme}://{request.host}"
