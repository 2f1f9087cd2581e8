"""The Twilio layer: everything that knows Twilio's wire format.

It owns, one module each:

- :mod:`~bulkops.twilio.wire`: building requests (:func:`build_request`,
  :func:`list_path`, :func:`account_list_path`), reading list pages of both
  APIs (:func:`read_page`), and the values that cross the wire (:class:`Request`,
  :class:`Reply`, :data:`Resource`), with paths from Twilio's OpenAPI specs;
- :mod:`~bulkops.twilio.answers`: mapping an HTTP answer to a :class:`Reply` or a
  typed :mod:`bulkops.errors` exception, reading ``Retry-After`` and the
  account's requests in flight (``Twilio-Concurrent-Requests``);
- :mod:`~bulkops.twilio.codes`: the Twilio error codes callers act on, by name;
- :mod:`~bulkops.twilio.client`: the HTTP client, :class:`TwilioClient`, whose
  one request path is :meth:`TwilioClient.send`;
- :mod:`~bulkops.twilio.deadlines`: each call's timeout, kept for all of a
  client's calls by one sweep (:class:`~bulkops.twilio.deadlines.CallDeadlines`);
- :mod:`~bulkops.twilio.listing`: paged, retried listing of a service's senders
  of one kind (:class:`ServiceLister`) and of the account's numbers
  (:class:`~bulkops.twilio.listing.AccountLister`, which :mod:`bulkops.resolve` asks);
- :mod:`~bulkops.twilio.network`: aiohttp's failures as typed network causes, the
  one line that says the API cannot be reached, and the TLS context;
- :mod:`~bulkops.twilio.preflight`: the one read that proves the connection.

It may import only the shared top-level modules (:mod:`bulkops.model`,
:mod:`bulkops.config`, :mod:`bulkops.egress`, :mod:`bulkops.errors`,
:mod:`bulkops.retry`, and ``bulkops._version`` for the User-Agent), never a
layer above it: :mod:`bulkops.engine`, :mod:`bulkops.journal`,
:mod:`bulkops.commands` or :mod:`bulkops.sandbox`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .answers import (
        error_for,
        parse_in_flight,
        parse_retry_after,
        reply_for,
        reply_unread,
    )
    from .client import TwilioClient
    from .codes import TwilioCode
    from .listing import MAX_PAGE_SIZE, PageApi, Pager, ServiceLister, ServiceNotFound
    from .wire import (
        CONCURRENCY_HEADER,
        Reply,
        Request,
        Resource,
        account_list_path,
        build_request,
        list_path,
        read_page,
    )

#: Where each public name lives. Loaded on first use (PEP 562), so the engine can
#: import :mod:`.wire` and :mod:`.codes` without loading the client and aiohttp.
_HOME = {
    "CONCURRENCY_HEADER": "wire",
    "error_for": "answers",
    "parse_in_flight": "answers",
    "reply_unread": "answers",
    "parse_retry_after": "answers",
    "read_page": "wire",
    "reply_for": "answers",
    "TwilioClient": "client",
    "TwilioCode": "codes",
    "MAX_PAGE_SIZE": "listing",
    "PageApi": "listing",
    "ServiceLister": "listing",
    "ServiceNotFound": "listing",
    "Pager": "listing",
    "Reply": "wire",
    "Request": "wire",
    "Resource": "wire",
    "build_request": "wire",
    "list_path": "wire",
    "account_list_path": "wire",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_HOME[name]}", __name__), name)


__all__ = [
    "CONCURRENCY_HEADER",
    "MAX_PAGE_SIZE",
    "PageApi",
    "Pager",
    "Reply",
    "Request",
    "Resource",
    "ServiceLister",
    "ServiceNotFound",
    "TwilioClient",
    "TwilioCode",
    "account_list_path",
    "build_request",
    "error_for",
    "list_path",
    "parse_in_flight",
    "parse_retry_after",
    "read_page",
    "reply_for",
    "reply_unread",
]
