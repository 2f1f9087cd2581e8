"""The Twilio layer: everything that knows Twilio's wire format.

It owns, one module each:

- :mod:`~bulkops.twilio.wire`: building requests (:func:`build_request`,
  :func:`list_path`) and the values that cross the wire (:class:`Request`,
  :class:`Reply`, :data:`Resource`), with paths from Twilio's OpenAPI spec;
- :mod:`~bulkops.twilio.answers`: mapping an HTTP answer to a :class:`Reply` or a
  typed :mod:`bulkops.errors` exception, reading ``Retry-After`` and list pages;
- :mod:`~bulkops.twilio.codes`: the Twilio error codes callers act on, by name;
- :mod:`~bulkops.twilio.client`: the HTTP client, :class:`TwilioClient`, whose
  one request path is :meth:`TwilioClient.send`;
- :mod:`~bulkops.twilio.listing`: paged, retried listing of a service's senders.

It may import only the shared top-level modules (:mod:`bulkops.model`,
:mod:`bulkops.config`, :mod:`bulkops.errors`, :mod:`bulkops.retry`, and
``bulkops._version`` for the User-Agent), never a
layer above it: :mod:`bulkops.engine`, :mod:`bulkops.journal`,
:mod:`bulkops.commands` or :mod:`bulkops.sandbox`.
"""

from __future__ import annotations

from .answers import (
    error_for,
    parse_in_flight,
    parse_retry_after,
    read_page,
    reply_for,
    reply_unread,
)
from .client import TwilioClient
from .codes import TwilioCode
from .listing import MAX_PAGE_SIZE, PageApi, ServiceLister, ServiceNotFound
from .wire import CONCURRENCY_HEADER, Reply, Request, Resource, build_request, list_path

__all__ = [
    "CONCURRENCY_HEADER",
    "MAX_PAGE_SIZE",
    "PageApi",
    "Reply",
    "Request",
    "Resource",
    "ServiceLister",
    "ServiceNotFound",
    "TwilioClient",
    "TwilioCode",
    "build_request",
    "error_for",
    "list_path",
    "parse_in_flight",
    "parse_retry_after",
    "read_page",
    "reply_for",
    "reply_unread",
]
