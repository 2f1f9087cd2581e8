"""The Twilio error codes bulkops acts on, by name.

A failed call's JSON body carries ``code``; :class:`~bulkops.errors.ApiError`
keeps it as ``code``. Meanings are from Twilio's error dictionary,
``https://www.twilio.com/docs/api/errors/<code>``.
"""

from __future__ import annotations

from enum import IntEnum


class TwilioCode(IntEnum):
    """Named Twilio error codes; each compares equal to its plain ``int``."""

    #: 20003 "Permission Denied": the HTTP Basic credentials were refused (with 401).
    PERMISSION_DENIED = 20003
    #: 20429 "Too many requests": over the account's REST API concurrency (with 429);
    #: the request was not processed and is safe to retry after backing off.
    TOO_MANY_REQUESTS = 20429
    #: 21710: the phone number or short code is already in this Messaging Service
    #: (with 409); attaching it again changes nothing.
    ALREADY_IN_SERVICE = 21710
    #: 21712 "Phone Number or Short Code is associated with another Messaging
    #: Service" (with 409): a sender belongs to one service at a time.
    IN_ANOTHER_SERVICE = 21712
    #: 21714 "Messaging Service Number Pool size limit reached" (with 412): the
    #: service already holds its limit of senders (400 by default).
    POOL_FULL = 21714


__all__ = ["TwilioCode"]
