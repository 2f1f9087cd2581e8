"""Well-formed Twilio SIDs for tests: distinct, deterministic, readable."""

from __future__ import annotations


def mg(n: int = 0) -> str:
    """A valid Messaging Service SID (``MG`` + 32 hex digits) numbered ``n``."""
    return f"MG{n:032x}"


def sc(n: int = 0) -> str:
    """A valid short code SID (``SC`` + 32 hex digits) numbered ``n``."""
    return f"SC{n:032x}"
