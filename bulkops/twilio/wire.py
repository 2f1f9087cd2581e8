"""What goes on the wire: the request for each operation, and the answer's value.

Everything here is a pure value or a pure function: no I/O, no clock. The paths
are Twilio's, from its Messaging v1 OpenAPI spec (``twilio_messaging_v1.json``,
vendored in ``tests/data``)::

    POST   /v1/Services/{ServiceSid}/ShortCodes          create (form: ShortCodeSid)
    GET    /v1/Services/{ServiceSid}/ShortCodes          list   (query: PageSize ≤ 1000)
    GET    /v1/Services/{ServiceSid}/ShortCodes/{Sid}    fetch
    DELETE /v1/Services/{ServiceSid}/ShortCodes/{Sid}    delete

Every other sender collection of a service has the same shape under another name
(``PhoneNumbers``, ``AlphaSenders``…); :class:`~bulkops.model.SenderKind` holds the
names, so nothing here branches on the kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..model import Op, SenderKind

#: Text that ``application/x-www-form-urlencoded`` leaves as it is.
_UNRESERVED = re.compile(
    r"[A-Za-z0-9_.\-]+=[A-Za-z0-9_.\-]*(?:&[A-Za-z0-9_.\-]+=[A-Za-z0-9_.\-]*)*"
)
#: A Twilio resource as its JSON object, e.g. one short code of a service.
Resource = dict[str, Any]
#: A form body as ordered ``(field, value)`` pairs, before url-encoding.
Form = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Request:
    """One call to make: method, path on the API's host (query included), form fields.

    ``path`` starts with ``/`` and never names a host: the client joins it to its
    own base URL, so credentials only ever go there.
    """

    method: str
    path: str
    form: Form = ()

    @property
    def encoded_form(self) -> bytes | None:
        """The form as an ``application/x-www-form-urlencoded`` body; None when empty.

        Names and values of letters, digits and ``_.-`` (every SID) need no
        quoting: joined as they are, they are what ``urlencode`` gives, for a
        third of its cost on the per-row path.
        """
        form = self.form
        if not form:
            return None
        joined = "&".join([f"{name}={value}" for name, value in form])
        if _UNRESERVED.fullmatch(joined):
            return joined.encode()
        return urlencode(form).encode()

    @property
    def target(self) -> str:
        """``METHOD /path`` without the query: what error messages may name."""
        return f"{self.method} {self.path.split('?', 1)[0]}"

    @property
    def one_line(self) -> str:
        """The request as ``--dry-run`` prints it: ``METHOD /path``, then a tab and the form.

        E.g. ``POST /v1/Services/MG…/ShortCodes<TAB>ShortCodeSid=SC…``.
        """
        shown = f"{self.method} {self.path}"
        return f"{shown}\t{urlencode(self.form)}" if self.form else shown


#: Twilio's count of the account's requests in flight, sent on its API answers
#: ("Monitor Twilio response headers like Twilio-Concurrent-Requests",
#: https://www.twilio.com/docs/api/errors/20429). Twilio's helper libraries do
#: not expose it; bulkops steers its concurrency by it (:mod:`bulkops.engine.inflight`).
CONCURRENCY_HEADER = "Twilio-Concurrent-Requests"


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful (2xx) answer: its HTTP status and parsed JSON body (None when empty)."""

    status: int
    body: Any
    #: The account's requests in flight as Twilio counted them when this request
    #: arrived, itself included (:data:`CONCURRENCY_HEADER`); None when not sent.
    account_in_flight: int | None = None


def _collection(kind: SenderKind, service_sid: str) -> str:
    return f"/v1/Services/{service_sid}/{kind.collection}"


def build_request(op: Op, kind: SenderKind, service_sid: str, sender_sid: str) -> Request:
    """The one request that does ``op`` to a sender of ``kind`` in a service.

    - ``attach``: ``POST /v1/Services/{ServiceSid}/{collection}`` with the form
      ``{create_param}={sender_sid}`` (spec: the create operation; 201 or 200).
    - ``detach``: ``DELETE /v1/Services/{ServiceSid}/{collection}/{Sid}`` (204).
    - ``fetch``: ``GET /v1/Services/{ServiceSid}/{collection}/{Sid}`` (200).

    The SIDs are used as given; callers validate them first (the job reader does).
    Raises ValueError for ``migrate``, which is two requests: a ``detach`` from
    the source service, then an ``attach`` to the target.
    """
    if op is Op.ATTACH:
        return Request("POST", _collection(kind, service_sid), ((kind.create_param, sender_sid),))
    if op is Op.DETACH:
        return Request("DELETE", f"{_collection(kind, service_sid)}/{sender_sid}")
    if op is Op.FETCH:
        return Request("GET", f"{_collection(kind, service_sid)}/{sender_sid}")
    raise ValueError(f"{op.value!r} is not one request: make a detach, then an attach")


def list_path(kind: SenderKind, service_sid: str, page_size: int) -> str:
    """The path of the first page of a service's senders of ``kind``.

    ``GET /v1/Services/{ServiceSid}/{collection}?PageSize=N``; the spec allows
    ``PageSize`` from 1 to 1000 (Twilio's default is 50). Later pages come from each
    page's ``meta.next_page_url`` (see :func:`~bulkops.twilio.answers.read_page`).
    """
    return f"{_collection(kind, service_sid)}?PageSize={page_size}"


__all__ = [
    "CONCURRENCY_HEADER",
    "Form",
    "Reply",
    "Request",
    "Resource",
    "build_request",
    "list_path",
]
