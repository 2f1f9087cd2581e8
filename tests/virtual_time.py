"""Moved to :mod:`support`; kept only until test_engine.py imports it from there."""

from __future__ import annotations

from support import VirtualClockLoop, run_virtual

__all__ = ["VirtualClockLoop", "run_virtual"]
