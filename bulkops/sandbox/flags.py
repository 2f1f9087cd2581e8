"""The sandbox's command-line flags, apart from the server so the CLI loads them cheaply.

``bulkops sandbox`` takes them all (:func:`add_sandbox_arguments`); ``bulkops run
--sandbox`` takes the load and fault flags alone (:func:`add_load_arguments`) and
reads them back with :func:`load_profile_from_args`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import fields

from ..config import positive_arg
from .profile import LoadProfile, Schedule, check_schedule
from .world import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN


def _number(
    kind: type[int] | type[float], *, low: float, high: float | None = None
) -> Callable[[str], int | float]:
    """An argparse ``type`` that parses ``kind`` and checks it is finite and lies in [low, high].

    Positive numbers are :func:`bulkops.config.positive_arg`'s, as for every command.
    """

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {kind.__name__}: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < low or (high is not None and value > high):
            bound = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


def parse_schedule(text: str) -> Schedule:
    """``T:N,T:N,…`` (seconds, requests in flight) as a background schedule.

    E.g. ``0:0,2:4,5:0``: no other traffic, 4 requests in flight from 2 s, none
    again from 5 s. Raises :class:`argparse.ArgumentTypeError` saying what is wrong.
    """
    steps = []
    for part in text.split(","):
        t_text, colon, n_text = part.strip().partition(":")
        try:
            if not colon:
                raise ValueError
            steps.append((float(t_text), int(n_text)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part.strip()!r} is not SECONDS:IN_FLIGHT (e.g. 2:4)"
            ) from None
    try:
        return check_schedule(tuple(steps))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_COUNT = positive_arg(int)
_SECONDS = _number(int, low=0)
_MS = _number(float, low=0)
_P = _number(float, low=0, high=1)

#: flag, LoadProfile field, type, metavar, help; dest is ``sandbox_<field>``.
_LOAD_FLAGS: tuple[tuple[str, str, Callable[[str], object], str, str], ...] = (
    ("--max-in-flight", "max_in_flight", _COUNT, "N",
     "answer 429/20429 while the account has N requests in flight (other traffic included)"),
    ("--max-per-second", "max_per_second", _COUNT, "N",
     "answer 429/20429 past N requests in any one-second window"),
    ("--retry-after", "retry_after_s", _SECONDS, "S",
     "send Retry-After: S on 429s (Twilio does not promise one)"),
    ("--latency-ms", "latency_mean_ms", _MS, "MEAN", "mean added latency per request, ms"),
    ("--latency-jitter-ms", "latency_jitter_ms", _MS, "J", "± uniform jitter on the latency, ms"),
    ("--fail-500", "fail_500_p", _P, "P", "probability of a 500/20500 answer"),
    ("--fail-503", "fail_503_p", _P, "P", "probability of a 503/20503 answer"),
    ("--drop", "drop_p", _P, "P", "probability of closing the connection without an answer"),
    ("--stall", "stall_p", _P, "P",
     "probability of holding a request --stall-s seconds, then handling it"),
    ("--stall-s", "stall_s", positive_arg(float), "S",
     "how long a stalled request is held (default 120)"),
    ("--seed", "seed", int, "N", "seed the fault and jitter draws, for a reproducible run"),
    ("--hold-writes", "hold_writes_s", _number(float, low=0), "S",
     "hold every write S seconds, then apply it, even if the client gave up"),
    ("--background-in-flight", "background_in_flight", _number(int, low=0), "N",
     "other traffic on the account: N requests always in flight, counted against "
     "--max-in-flight and in the concurrency header"),
    ("--background-schedule", "background_schedule", parse_schedule, "T:N,...",
     "other traffic that moves: N in flight from T seconds after the first request, "
     "e.g. 0:0,2:4,5:0"),
)  # fmt: skip
_DEFAULTS = {f.name: f.default for f in fields(LoadProfile)}


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The load and fault flags (dests ``sandbox_<LoadProfile field>``), all off by default."""
    group = parser.add_argument_group("sandbox load and faults (all off by default)")
    for flag, field, parse, metavar, help_text in _LOAD_FLAGS:
        group.add_argument(
            flag,
            dest=f"sandbox_{field}",
            type=parse,
            default=_DEFAULTS[field],
            metavar=metavar,
            help=help_text,
        )
    group.add_argument(
        "--no-concurrency-header",
        dest="sandbox_concurrency_header",
        action="store_false",
        help="leave out the Twilio-Concurrent-Requests header (as a proxy might strip it)",
    )


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """All flags of ``bulkops sandbox``."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    add(
        "--port",
        type=_number(int, low=0, high=65535),
        default=8080,
        help="port to bind (default 8080; 0 = any free port)",
    )
    add(
        "--seed-from",
        dest="seed_from",
        action="append",
        default=[],
        metavar="JOB",
        help="make every service and sender (by SID, number or text) named in this job file "
        "exist (repeatable)",
    )
    add("--state", metavar="FILE", help="load the world from FILE if it exists; save it on exit")
    add("--account-sid", help=f"the sandbox's account SID (default {DEFAULT_ACCOUNT_SID})")
    add("--auth-token", help=f"the sandbox's auth token (default {DEFAULT_AUTH_TOKEN})")
    add("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain) file")
    add("--tls-key", metavar="PEM", help="the private key of --tls-cert (default: in that file)")
    add_load_arguments(parser)


def load_profile_from_args(args: argparse.Namespace) -> LoadProfile:
    """The :class:`LoadProfile` the flags of :func:`add_load_arguments` describe.

    Raises ValueError for an inconsistent set (e.g. probabilities adding up over 1).
    """
    fields = {field: getattr(args, f"sandbox_{field}") for _, field, *_ in _LOAD_FLAGS}
    return LoadProfile(
        **fields, concurrency_header=getattr(args, "sandbox_concurrency_header", True)
    )
