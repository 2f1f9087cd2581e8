"""Sandbox worlds, credentials and command flags shared by the export and verify tests."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bulkops.config import Credentials
from bulkops.model import SenderKind
from bulkops.sandbox import Sandbox, SandboxThread, World


def credentials_of(sandbox: Sandbox | SandboxThread) -> Credentials:
    """The credentials the sandbox accepts."""
    return Credentials(
        username=sandbox.account_sid, password=sandbox.auth_token, account_sid=sandbox.account_sid
    )


def world_with(
    pools: dict[str, list[str]], *, cap: int = 400, extra_services: tuple[str, ...] = ()
) -> World:
    """A world where each service holds the given short codes; extra services are empty."""
    world = World(max_senders_per_service=cap)
    world.seed(
        service_sids=[*pools, *extra_services],
        short_code_sids=[s for sids in pools.values() for s in sids],
    )
    for service_sid, sids in pools.items():
        for sid in sids:
            world.attach(service_sid, SenderKind.SHORT_CODE, sid)
    return world


@contextmanager
def environment_for(monkeypatch: pytest.MonkeyPatch, world: World) -> Iterator[SandboxThread]:
    """A sandbox in a thread, with the environment pointing bulkops at it."""
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(name, raising=False)
    with SandboxThread(world=world) as sb:
        for name, value in sb.env().items():
            monkeypatch.setenv(name, value)
        yield sb


def sandbox_env_with(pools: dict[str, list[str]]) -> Any:
    """A fixture: a sandbox in a thread whose services hold ``pools``, the environment on it.

    A test module assigns it to ``sandbox_env``, the name its tests ask for.
    """

    @pytest.fixture
    def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxThread]:
        with environment_for(monkeypatch, world_with(pools)) as sb:
            yield sb

    return sandbox_env


def command_args(
    add_arguments: Callable[[argparse.ArgumentParser], None], argv: list[str]
) -> argparse.Namespace:
    """``argv`` read by a parser given one command's flags by its ``add_arguments``."""
    parser = argparse.ArgumentParser(prog="bulkops")
    add_arguments(parser)
    return parser.parse_args(argv)
