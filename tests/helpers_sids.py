"""Moved to :mod:`support`; kept until test_client.py and test_engine.py import from there."""

from __future__ import annotations

from support import mg, sc

__all__ = ["mg", "sc"]
