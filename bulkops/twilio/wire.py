"""What goes on the wire: the request for each operation, and the answer's value.

Everything here is a pure value or a pure function: no I/O, no clock. The paths
are Twilio's, from its Messaging v1 OpenAPI spec (``twilio_messaging_v1.json``,
vendored in ``tests/data``)::

    POST   /v1/Services/{ServiceSid}/ShortCodes          create (form: ShortCodeSid)
    GET    /v1/Services/{ServiceSid}/ShortCodes          list   (query: PageSize ≤ 1000)
    GET    /v1/Services/{ServiceSid}/ShortCodes/{Sid}    fetch
    DELETE /v1/Services/{ServiceSid}/ShortCodes/{Sid}    delete
    GET    /v1/Services/{Sid}                            fetch the service itself

Every other sender collection of a service has the same shape under another name
(``PhoneNumbers``, ``AlphaSenders``); :class:`~bulkops.model.KindSpec` holds the
names, so nothing here branches on the kind. The account's numbers are listed by
the 2010 API (``twilio_api_v2010.json``, on its own host; see
:attr:`~bulkops.model.KindSpec.account_listing`)::

    GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json  (query: PhoneNumber, PageSize)
    GET /2010-04-01/Accounts/{AccountSid}/SMS/ShortCodes.json        (query: ShortCode, PageSize)

and the account's Messaging Services themselves, ``GET /v1/Services`` (query:
``PageSize`` ≤ 1000; items under ``services``, schema ``messaging.v1.service``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from ..errors import PermanentError
from ..model import AccountListing, Op, SenderKind

#: Text that ``application/x-www-form-urlencoded`` leaves as it is.
_UNRESERVED = re.compile(
    r"[A-Za-z0-9_.\-]+=[A-Za-z0-9_.\-]*(?:&[A-Za-z0-9_.\-]+=[A-Za-z0-9_.\-]*)*"
)
#: A Twilio resource as its JSON object, e.g. one short code of a service.
Resource = dict[str, Any]
#: A form body as ordered ``(field, value)`` pairs, before url-encoding.
Form = tuple[tuple[str, str], ...]
#: Paths of the 2010 API start so; the client asks them of that API's host.
API_2010_PREFIX = "/2010-04-01/"


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

        E.g. ``POST /v1/Services/MG…/ShortCodes<TAB>ShortCodeSid=SC…``. The form is
        shown as ``field=value`` pairs joined by ``&``, values as they are (not
        url-encoded: for people to read, e.g. ``AlphaSender=My Brand``).
        """
        shown = f"{self.method} {self.path}"
        form = "&".join(f"{name}={value}" for name, value in self.form)
        return f"{shown}\t{form}" if self.form else shown


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
      ``{create_param}={sender_sid}`` (spec: the create operation; 201 or 200);
      for a kind created by text (``AlphaSender``) ``sender_sid`` is that text.
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


def service_request(service_sid: str) -> Request:
    """``GET /v1/Services/{Sid}``: the Messaging Service itself (spec: 200, or 404 if none).

    Tells a service that does not exist from a sender that is not in it: Twilio
    answers both with 404 on the sender's own path.
    """
    return Request("GET", f"/v1/Services/{service_sid}")


def list_path(kind: SenderKind, service_sid: str, page_size: int) -> str:
    """The path of the first page of a service's senders of ``kind``.

    ``GET /v1/Services/{ServiceSid}/{collection}?PageSize=N``; the spec allows
    ``PageSize`` from 1 to 1000 (Twilio's default is 50). Later pages come from each
    page's ``meta.next_page_url`` (see :func:`~bulkops.twilio.answers.read_page`).
    """
    return f"{_collection(kind, service_sid)}?PageSize={page_size}"


def account_list_path(
    listing: AccountListing, account_sid: str, *, page_size: int, number: str | None = None
) -> str:
    """The first page of the account's numbers of one kind, or of those that match ``number``.

    ``GET /2010-04-01/Accounts/{AccountSid}/…json?PageSize=N[&{filter_param}=number]``
    (spec: ``ListIncomingPhoneNumber``, ``ListShortCode``; ``PageSize`` 1 to 1000).
    Twilio's filter may match more than the exact number (partial numbers,
    wildcards): callers compare ``number_field`` themselves.
    """
    query: list[tuple[str, str | int]] = [("PageSize", page_size)]
    if number is not None:
        query.append((listing.filter_param, number))
    return f"{listing.path_for(account_sid)}?{urlencode(query)}"


def services_path(page_size: int) -> str:
    """The path of the first page of the account's Messaging Services.

    ``GET /v1/Services?PageSize=N`` (spec: ``ListService``; ``PageSize`` 1 to
    1000); items under :data:`SERVICES`'s ``list_key``, each with its ``sid``;
    later pages from ``meta.next_page_url``, as every Messaging v1 list.
    """
    return f"/v1/Services?PageSize={page_size}"


@dataclass(frozen=True, slots=True)
class ServicesList:
    """How the services list is read: items under ``services`` (spec: ListServiceResponse)."""

    list_key: str = "services"


#: The account's Messaging Services list, as :func:`read_page` reads it.
SERVICES = ServicesList()


class Listed(Protocol):
    """What a list page is read by: the key of its items (a SenderKind, an AccountListing)."""

    @property
    def list_key(self) -> str: ...


def read_page(reply: Reply, listed: Listed, *, target: str) -> tuple[list[Resource], str | None]:
    """A list page's items and the next page as a path and query (None on the last page).

    ``reply.body`` is the page's JSON, items under ``listed.list_key``, and the
    next page at ``meta.next_page_url`` (Messaging v1) or ``next_page_uri`` (the
    2010 API); an empty body or a missing or null key reads as empty. The next
    page's URL is cut to its path and query, to be asked of the client's own
    base URL: following an absolute URL from a body could send credentials
    elsewhere. Raises :class:`~bulkops.errors.PermanentError` when the body is
    JSON but not an object.
    """
    page = reply.body or {}
    if not isinstance(page, dict):
        raise PermanentError(reply.status, None, f"{target}: list page is not a JSON object")
    meta = page.get("meta")
    next_url = (meta if isinstance(meta, dict) else {}).get("next_page_url")
    next_url = next_url or page.get("next_page_uri")
    if next_url:
        parts = urlsplit(str(next_url))
        next_url = parts.path + (f"?{parts.query}" if parts.query else "")
    return list(page.get(listed.list_key) or []), next_url or None


__all__ = [
    "API_2010_PREFIX",
    "CONCURRENCY_HEADER",
    "SERVICES",
    "Form",
    "Listed",
    "Reply",
    "Request",
    "Resource",
    "ServicesList",
    "account_list_path",
    "build_request",
    "list_path",
    "read_page",
    "service_request",
    "services_path",
]
