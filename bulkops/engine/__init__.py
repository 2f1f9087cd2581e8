"""The engine: from rows to calls, with limits, retries and one result per row.

Owns the feed (which rows to send, duplicates, per-sender order), the call loop
(rate gate, concurrency window steered by Twilio's count of the account's
requests in flight with AIMD as the fallback, backoff, the stop when the
network is gone, the limit's trace), the calls of each row for every sender
kind (actions, migration, and the alpha senders' SIDs per service in the
directory), what the run learns of its services (which exist, which are full),
the settling of writes that may have landed unanswered, and the failure brake.
It may import the top-level shared modules (model, config, errors, keys,
retry, kinds…) and the Twilio layer's pure values (``bulkops.twilio.wire``,
``bulkops.twilio.codes``); never the Twilio client, the journal, the commands
or the sandbox: it meets them through the Protocols in :mod:`.ports`.
"""

from .engine import Engine
from .feed import Feed, SenderTurns
from .limits import StartSpacing
from .migration import migration_for
from .ports import EngineClock, EngineHooks, Journal, NoObserver, Observer, SenderApi
from .records import RecordMaker

__all__ = [
    "Engine",
    "EngineClock",
    "EngineHooks",
    "Feed",
    "Journal",
    "NoObserver",
    "Observer",
    "RecordMaker",
    "SenderApi",
    "SenderTurns",
    "StartSpacing",
    "migration_for",
]
