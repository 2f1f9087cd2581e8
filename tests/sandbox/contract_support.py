"""Validators built from Twilio's OpenAPI specs, for the contract tests.

``tests/data/`` holds the specs unmodified (see ``SOURCE.txt``). A validator
checks a JSON body, or a create call's form, against the schema a spec declares
at one path, method and status, with ``$ref``s resolved within that spec and
Twilio's formats checked: ``date-time``, ``uri`` (absolute; in API 2010-04-01,
where Twilio writes paths, a path on the same host too), ``phone-number``
(E.164) and ``date-time-rfc-2822``.
"""

from __future__ import annotations

import json
import re
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

DATA = Path(__file__).parents[1] / "data"
MESSAGING = "twilio_messaging_v1.json"
API_2010 = "twilio_api_v2010.json"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


@cache
def spec(name: str) -> dict[str, Any]:
    """The spec ``tests/data/<name>``, read once."""
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def _absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def _uri_or_path(value: object) -> bool:
    if isinstance(value, str) and value.startswith("/"):
        return " " not in value and not value.startswith("//")
    return _absolute_uri(value)


def _phone_number(value: object) -> bool:
    return not isinstance(value, str) or bool(E164.match(value))


def _rfc2822(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return format_datetime(parsedate_to_datetime(value)) == value
    except (TypeError, ValueError):
        return False


def format_checker(*, paths_are_uris: bool) -> FormatChecker:
    """OpenAPI's formats plus Twilio's; ``paths_are_uris`` accepts ``/2010-04-01/…`` as a uri."""
    checker = FormatChecker(formats=())
    checker.checkers.update(OAS30Validator.FORMAT_CHECKER.checkers)
    checker.checks("uri")(_uri_or_path if paths_are_uris else _absolute_uri)
    checker.checks("phone-number")(_phone_number)
    checker.checks("date-time-rfc-2822")(_rfc2822)
    return checker


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="~") for p in parts)


def validator(name: str, *parts: str) -> OAS30Validator:
    """A validator for the schema at ``parts`` (a JSON pointer's steps) of spec ``name``."""
    uri = f"urn:twilio-oai:{name}"
    registry = Registry().with_resource(uri, DRAFT4.create_resource(spec(name)))
    return OAS30Validator(
        {"$ref": uri + _pointer(*parts)},
        registry=registry,
        format_checker=format_checker(paths_are_uris=name == API_2010),
    )


def response_validator(name: str, path: str, method: str, status: str) -> OAS30Validator:
    """A validator for the JSON body spec ``name`` declares for ``method path`` → ``status``."""
    return validator(
        name, "paths", path, method, "responses", status, "content", "application/json", "schema"
    )


def request_validator(name: str, path: str, method: str) -> OAS30Validator:
    """A validator for the form body spec ``name`` declares for ``method path``."""
    return validator(
        name,
        "paths",
        path,
        method,
        "requestBody",
        "content",
        "application/x-www-form-urlencoded",
        "schema",
    )


def schema(name: str, *parts: str) -> dict[str, Any]:
    """The raw schema at ``parts`` of spec ``name`` (no ``$ref`` resolved)."""
    node: Any = spec(name)
    for part in parts:
        node = node[part]
    found: dict[str, Any] = node
    return found
