"""The embedded sandbox: a local fake of Twilio's Messaging v1 sender API.

It serves the ShortCodes routes of Twilio's OpenAPI spec on a loopback port, with
Twilio's auth, error bodies and paging, plus optional throttling, latency and
faults, and counters at ``GET /sandbox/stats`` (no auth; ``POST
/sandbox/stats/reset`` zeroes them). See ``README.md`` in this directory.

::

    world = World()
    world.seed(service_sids=[mg], short_code_sids=[sc])
    async with Sandbox(world=world, load=LoadProfile(max_in_flight=10)) as sb:
        ...  # sb.base_url, sb.account_sid, sb.auth_token, sb.stats.snapshot()
"""

from .app import build_app
from .load import LoadProfile
from .problems import TwilioProblem
from .server import Sandbox, SandboxThread
from .stats import Fault, Stats
from .world import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    MAX_SENDERS_PER_SERVICE,
    Sender,
    World,
)

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
]
