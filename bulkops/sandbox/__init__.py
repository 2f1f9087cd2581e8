"""The embedded sandbox: a local fake of Twilio's sender APIs.

It serves, on a loopback port, Messaging v1's ShortCodes, PhoneNumbers and
AlphaSenders routes and the account's IncomingPhoneNumbers and SMS/ShortCodes
listings of API 2010-04-01, as Twilio's OpenAPI specs describe them, with
Twilio's auth, error bodies and paging, plus optional throttling, latency and
faults, and counters at ``GET /sandbox/stats`` (no auth; ``POST
/sandbox/stats/reset`` zeroes them). See ``README.md`` in this directory.

It stands beside the flow, never in it: it may import the top-level shared
modules (model, config, errors, jobs for seeding) and never the engine, the
journal, the Twilio client or the commands.

::

    world = World()
    world.seed(service_sids=[mg], short_code_sids=[sc], phone_number_sids=[pn])
    world.seed_senders(SenderKind.PHONE_NUMBER, ["+14155550100"])  # a number gets a SID
    async with Sandbox(world=world, load=LoadProfile(max_in_flight=10)) as sb:
        ...  # sb.base_url, sb.account_sid, sb.auth_token, sb.stats.snapshot()
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import build_app
    from .problems import TwilioProblem
    from .profile import LoadProfile
    from .seeding import seed_from_job, spread_from_job
    from .senders import Sender
    from .server import Sandbox, SandboxThread
    from .stats import Fault, Stats
    from .world import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, MAX_SENDERS_PER_SERVICE, World

#: Where each public name lives. Loaded on first use (PEP 562), so the command
#: line can read the sandbox's flags without loading its server.
_HOME = {
    "build_app": "app",
    "LoadProfile": "profile",
    "TwilioProblem": "problems",
    "seed_from_job": "seeding",
    "spread_from_job": "seeding",
    "Sandbox": "server",
    "SandboxThread": "server",
    "Fault": "stats",
    "Stats": "stats",
    "DEFAULT_ACCOUNT_SID": "world",
    "DEFAULT_AUTH_TOKEN": "world",
    "MAX_SENDERS_PER_SERVICE": "world",
    "Sender": "senders",
    "World": "world",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_HOME[name]}", __name__), name)


__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "MAX_SENDERS_PER_SERVICE",
    "Fault",
    "LoadProfile",
    "Sandbox",
    "SandboxThread",
    "Sender",
    "Stats",
    "TwilioProblem",
    "World",
    "build_app",
    "seed_from_job",
    "spread_from_job",
]
