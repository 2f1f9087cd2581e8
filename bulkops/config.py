"""Run configuration: one frozen object built from flags and environment, passed in.

Also the one check of a positive number, :func:`check_positive`, its sibling for
settings where 0 means none, :func:`check_non_negative`, and the argparse form,
:func:`positive_arg`, for every flag that counts or waits. Both refuse NaN and
infinity: a rate, a timeout or a wait that is not a finite number is a typo.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from .errors import UsageError
from .model import Op

if TYPE_CHECKING:
    from .egress import Egress

DEFAULT_BASE_URL = "https://messaging.twilio.com"
#: Where Twilio serves the ``/2010-04-01/…`` API (the account's numbers), by default.
DEFAULT_API_BASE_URL = "https://api.twilio.com"
#: The most tries ``--max-attempts`` allows per call. With waits capped at 30 s,
#: 100 tries can hold one row for up to about 50 minutes; more is a typo, not patience.
MAX_ATTEMPTS = 100
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

    An explicit URL is where every Twilio API bulkops calls goes: the Messaging
    paths and the ``/2010-04-01`` ones (see :func:`api_base_for`).
    ``TWILIO_REGION``/``TWILIO_EDGE`` build ``https://messaging.{edge}.{region}.twilio.com``
    as Twilio's helper libraries do (an edge alone implies region ``us1``), which
    :func:`api_base_for` pairs with ``https://api.{edge}.{region}.twilio.com``. Plain
    ``http://`` is refused except to loopback, so a token never crosses a network in clear.
    """
    env = os.environ if env is None else env
    url = explicit or env.get("BULKOPS_BASE_URL") or ""
    if not url:
        region, edge = env.get("TWILIO_REGION", ""), env.get("TWILIO_EDGE", "")
        if edge and not region:
            region = "us1"
        host = ".".join(label for label in ("messaging", edge, region, "twilio.com") if label)
        return f"https://{host}" if region else DEFAULT_BASE_URL
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


def api_base_for(base_url: str) -> str:
    """The ``/2010-04-01`` API's base URL that goes with a Messaging API base URL.

    Twilio's own hosts pair by product: ``https://messaging.{edge}.{region}.twilio.com``
    goes with ``https://api.{edge}.{region}.twilio.com``. Any other base URL (a
    sandbox, a proxy) serves both APIs itself, so it is returned as it is.
    """
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host.startswith("messaging.") and host.endswith(".twilio.com"):
        return f"https://api.{host.removeprefix('messaging.')}"
    return base_url


Number = TypeVar("Number", int, float)


def check_positive(name: str, value: Number, *, at_most: Number | None = None) -> Number:
    """``value``, if it is a finite number above 0 (and at most ``at_most`` when given).

    Raises :class:`UsageError` naming ``name`` (a flag, e.g. ``"--timeout"``) and
    the value: ``--timeout must be positive, got 0.0``; NaN and infinity are
    ``--timeout must be a finite number, got inf``.
    """
    _check_finite(name, value)
    if not value > 0:
        raise UsageError(f"{name} must be positive, got {value!r}")
    if at_most is not None and value > at_most:
        raise UsageError(f"{name} must be at most {at_most!r}, got {value!r}")
    return value


def check_non_negative(name: str, value: Number) -> Number:
    """``value``, if it is a finite number of 0 or more: for settings where 0 means none.

    Raises :class:`UsageError` as :func:`check_positive` does:
    ``--rate must be 0 or positive, got -1.0``.
    """
    _check_finite(name, value)
    if not value >= 0:
        raise UsageError(f"{name} must be 0 or positive, got {value!r}")
    return value


def _check_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, got {value!r}")


def positive_arg(
    kind: Callable[[str], Number], *, at_most: Number | None = None
) -> Callable[[str], Number]:
    """An argparse ``type``: the flag's text read by ``kind`` (int or float), then checked.

    The check is :func:`check_positive`'s; its :class:`UsageError`, and text that is
    not a number, become :class:`argparse.ArgumentTypeError`, so argparse prints
    ``argument --flag: …`` and exits 2 as for any bad flag.
    """
    number = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {number}: {text!r}") from None
        try:
            return check_positive("value", value, at_most=at_most)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a run needs to know, fixed before it starts.

    Raises :class:`UsageError`, naming the flag and the value, for a value out of
    range: see :meth:`__post_init__`.
    """

    #: Where the Messaging API (``/v1/Services/…``) is asked; the ``/2010-04-01``
    #: API goes where :func:`api_base_for` pairs with it (:attr:`api_url`).
    base_url: str = DEFAULT_BASE_URL
    default_op: Op | None = None
    concurrency: int = 16
    #: Calls started per second at most; 0 means no limit.
    rate_per_s: float = 25.0
    #: Tries per call for transient failures, 1 to :data:`MAX_ATTEMPTS`.
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
    #: Seconds after a write that may have been applied (it timed out or lost its
    #: connection after sending) before its sender is read back (``--settle``).
    settle_s: float = 5.0
    #: The proxy and extra CA bundle calls use (:func:`bulkops.egress.resolve_egress`);
    #: None: direct, the operating system's trust store alone.
    egress: Egress | None = None

    @property
    def api_url(self) -> str:
        """The ``/2010-04-01`` API's base URL, :func:`api_base_for` of ``base_url``."""
        return api_base_for(self.base_url)

    def __post_init__(self) -> None:
        """Numbers finite; counts and waits above 0 (rate, grace, settle: or 0); attempts capped."""
        check_positive("--concurrency", self.concurrency)
        check_positive("--max-attempts", self.max_attempts, at_most=MAX_ATTEMPTS)
        check_positive("--timeout", self.timeout_s)
        check_positive("backoff initial wait", self.backoff_initial_s)
        check_positive("backoff cap", self.backoff_cap_s)
        if self.max_failures is not None:
            check_positive("--max-failures", self.max_failures)
        if self.max_failure_rate is not None and not 0 <= self.max_failure_rate < 1:
            raise UsageError(f"--max-failure-rate must be in [0, 1), got {self.max_failure_rate!r}")
        check_non_negative("--grace", self.grace_s)
        check_non_negative("--settle", self.settle_s)
        check_non_negative("--rate", self.rate_per_s)  # 0: no limit
