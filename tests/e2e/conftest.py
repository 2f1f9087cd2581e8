"""Fixtures of the end-to-end tests: where a run writes its results."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """The result log of the test's run (not yet created)."""
    return tmp_path / "results.jsonl"


@pytest.fixture(autouse=True)
def invalid_names_never_leave_the_machine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names under ``.invalid`` (RFC 6761) fail to resolve here, without asking any DNS server.

    The tests only ever talk to loopback; a lookup of such a name would otherwise go
    to the machine's resolver. Returns the names refused, so a test can check that
    its run really tried to resolve one.
    """
    refused: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if name.rstrip(".").endswith(".invalid"):
            refused.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return refused
