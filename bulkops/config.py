"""Run configuration: one frozen object built from flags and environment, passed in."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import UsageError
from .model import Op, SenderKind

DEFAULT_BASE_URL = "https://messaging.twilio.com"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """HTTP Basic credentials for Twilio: account SID + auth token, or API key + secret."""

    username: str
    password: str
    account_sid: str

    def __repr__(self) -> str:  # never let a secret reach a log or a traceback
        return f"Credentials(username={self.username!r}, password='***')"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in any output."""
        return (self.password,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        """Read ``TWILIO_ACCOUNT_SID`` with the auth token, or with an API key and secret."""
        env = os.environ if env is None else env
        account = env.get("TWILIO_ACCOUNT_SID", "").strip()
        key, secret = env.get("TWILIO_API_KEY", "").strip(), env.get("TWILIO_API_SECRET", "")
        token = env.get("TWILIO_AUTH_TOKEN", "")
        if not account:
            raise UsageError(
                "TWILIO_ACCOUNT_SID is not set: export it with TWILIO_AUTH_TOKEN "
                "(or TWILIO_API_KEY and TWILIO_API_SECRET), or use --sandbox"
            )
        if key or secret:
            if not (key and secret):
                raise UsageError("TWILIO_API_KEY and TWILIO_API_SECRET must be set together")
            return cls(username=key, password=secret, account_sid=account)
        if not token:
            raise UsageError("TWILIO_AUTH_TOKEN is not set (nor TWILIO_API_KEY/TWILIO_API_SECRET)")
        return cls(username=account, password=token, account_sid=account)


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    """The API base URL: ``--base-url``, else ``BULKOPS_BASE_URL``, else region/edge, else Twilio.

    ``TWILIO_REGION``/``TWILIO_EDGE`` build ``https://messaging.{edge}.{region}.twilio.com``
    as Twilio's helper libraries do (an edge alone implies region ``us1``). Plain
    ``http://`` is refused except to loopback, so a token never crosses a network in clear.
    """
    env = os.environ if env is None else env
    url = explicit or env.get("BULKOPS_BASE_URL") or ""
    if not url:
        region, edge = env.get("TWILIO_REGION", ""), env.get("TWILIO_EDGE", "")
        if edge and not region:
            region = "us1"
        parts = ["messaging", edge, region, "twilio.com"]
        return "https://" + ".".join(p for p in parts if p) if region else DEFAULT_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"base URL {url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise UsageError("base URL must not contain credentials; use TWILIO_* variables")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(
            f"refusing plain http to {parts.hostname}: credentials would cross the network "
            "in clear; use https (plain http is allowed only to loopback)"
        )
    return url.rstrip("/")


def _check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise UsageError(f"{name} must be positive, got {value!r}")


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a run needs to know, fixed before it starts."""

    base_url: str = DEFAULT_BASE_URL
    kind: SenderKind = SenderKind.SHORT_CODE
    default_op: Op | None = None
    concurrency: int = 16
    #: Calls started per second at most; 0 means no limit.
    rate_per_s: float = 25.0
    max_attempts: int = 6
    timeout_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_cap_s: float = 30.0
    #: Stop the run at this many failed rows (None: never).
    max_failures: int | None = None
    #: Stop the run when more than this share of the last rows failed (None: never).
    max_failure_rate: float | None = None
    failure_window_rows: int = 100
    #: Seconds in-flight calls get to finish after an interrupt.
    grace_s: float = 10.0

    def __post_init__(self) -> None:
        _check_positive("--concurrency", self.concurrency)
        _check_positive("--max-attempts", self.max_attempts)
        _check_positive("--timeout", self.timeout_s)
        _check_positive("backoff initial wait", self.backoff_initial_s)
        _check_positive("backoff cap", self.backoff_cap_s)
        if self.max_failures is not None:
            _check_positive("--max-failures", self.max_failures)
        if self.max_failure_rate is not None and not 0 <= self.max_failure_rate < 1:
            raise UsageError(f"--max-failure-rate must be in [0, 1), got {self.max_failure_rate!r}")
        if self.grace_s < 0:
            raise UsageError(f"--grace must not be negative, got {self.grace_s!r}")
        if self.rate_per_s < 0:
            raise UsageError(f"--rate must be 0 (no limit) or positive, got {self.rate_per_s!r}")
