"""A result as its result-log line: compact JSON, spelled out for speed.

:func:`record_line` is what :class:`~bulkops.journal.writer.ResultJournal`
writes for every row; ``tests/test_journal.py`` checks it gives the same
characters as ``json`` does for the record.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from types import MappingProxyType
from typing import Any

from ..model import ItemResult, SenderKind

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


#: The fields a record may have before its extra ones (an extra field of the same
#: name rewrites one in place: such a record goes through ``json`` itself).
_FIXED = frozenset(
    ("line", "op", "service_sid", "kind", "sender", "sender_sid", "outcome", "detail",
     "http_status", "twilio_code", "message", "attempts", "elapsed_ms", "finished_at",
     "throttled", "from_service_sid", "settled", *(kind.sid_column for kind in SenderKind))
)  # fmt: skip


#: What each kind's record adds after ``throttled``, built once, by the kind's value:
#: ``,"short_code_sid":`` for kinds named by SID, nothing for kinds created by text
#: (alpha senders).
_SID_KEYS = MappingProxyType(
    {
        kind._value_: "" if kind.spec.creates_by_text else f",{encode_basestring(kind.sid_column)}:"
        for kind in SenderKind
    }
)  # by value: a plain Enum's hash is Python code


def record_line(result: ItemResult) -> str:
    """``result.to_record()`` as compact JSON, without the dict or the encoder's set-up.

    Written thousands of times a second, so spelled out; the same characters as
    ``json`` (``ensure_ascii=False``, no spaces) gives for the record, which
    ``tests/test_journal.py`` checks over many records. Extra fields that share
    a name with a fixed one, and non-finite floats, go through ``json`` itself.
    """
    elapsed_ms = result.elapsed_ms
    extra: dict[str, Any] | None = None
    if result.resource or result.from_service_sid or result.settled:
        extra = {}
        if result.from_service_sid:
            extra["from_service_sid"] = result.from_service_sid
        if result.settled:
            extra["settled"] = True
        if result.resource.keys() & _FIXED:
            return _dumps(result.to_record())
        extra.update(result.resource)
    if type(elapsed_ms) is not float or not math.isfinite(elapsed_ms):
        return _dumps(result.to_record())
    text = encode_basestring
    message = result.message
    status, code = result.http_status, result.twilio_code
    kind, sid = result.kind, result.sender_sid
    sid_text = text(sid)
    line = (
        f'{{"line":{int.__repr__(result.line)},"op":{text(result.op)},'
        f'"service_sid":{text(result.service_sid)},"kind":{text(result.kind_name)},'
        f'"sender":{text(result.sender) if result.sender else sid_text},'
        f'"sender_sid":{sid_text},'
        f'"outcome":{text(result.outcome)},"detail":{text(result.detail)},'
        f'"http_status":{"null" if status is None else int.__repr__(status)},'
        f'"twilio_code":{"null" if code is None else int.__repr__(code)},'
        f'"message":{"null" if message is None else text(message)},'
        f'"attempts":{int.__repr__(result.attempts)},"elapsed_ms":{float.__repr__(elapsed_ms)},'
        f'"finished_at":{text(result.finished_at)},"throttled":{int.__repr__(result.throttled)}'
    )
    if kind is not None:
        sid_key = _SID_KEYS[kind._value_]
        if sid_key:
            line = f"{line}{sid_key}{sid_text}"
    if extra:
        return f"{line},{_dumps(extra)[1:-1]}}}"
    return line + "}"
