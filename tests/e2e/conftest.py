"""Fixtures of the end-to-end tests: where a run writes its results."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """The result log of the test's run (not yet created)."""
    return tmp_path / "results.jsonl"
