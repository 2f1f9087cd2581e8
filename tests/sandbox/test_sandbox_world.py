"""The world: seeding, credentials, attach rules and the JSON state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sandbox_helpers import MG_A, MG_B
from support import sc

import bulkops.sandbox
from bulkops.errors import UsageError
from bulkops.model import SenderKind
from bulkops.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioProblem, World

SHORT_CODE = SenderKind.SHORT_CODE


def test_public_surface_is_sorted_and_importable() -> None:
    """``__all__`` is sorted (constants, classes, functions) and every name in it exists."""
    names = bulkops.sandbox.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert all(hasattr(bulkops.sandbox, name) for name in bulkops.sandbox.__all__)


def test_default_credentials_are_fixed_and_well_formed() -> None:
    """The default account SID has Twilio's shape; the token says it is no secret."""
    world = World()
    assert world.account_sid == DEFAULT_ACCOUNT_SID == "AC5a4db0c55a4db0c55a4db0c55a4db0c5"
    assert world.auth_token == DEFAULT_AUTH_TOKEN
    assert world.credentials_ok(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    assert not world.credentials_ok(DEFAULT_ACCOUNT_SID, "")


def test_seed_derives_numbers_deterministically_and_is_idempotent() -> None:
    """Seeding gives each SID the same 5-digit number every time and attaches nothing."""
    first, second = World(), World()
    for world in (first, second):
        world.seed(service_sids=[MG_A], short_code_sids=[sc(1), sc(2)])
    assert [s.number for s in first.senders.values()] == [s.number for s in second.senders.values()]
    assert all(len(s.number) == 5 and s.number.isdigit() for s in first.senders.values())
    first.attach(MG_A, SHORT_CODE, sc(1))
    first.seed(service_sids=[MG_A], short_code_sids=[sc(1)])
    assert first.senders[sc(1)].service_sid == MG_A
    assert first.summary() == {"services": 1, "senders": 2, "attached": 1}


@pytest.mark.parametrize(
    "kwargs",
    [{"service_sids": ["MG1"]}, {"short_code_sids": ["PN" + "0" * 32]}],
)
def test_seed_rejects_malformed_sids(kwargs: dict) -> None:
    """Seeding a SID of the wrong shape raises ValueError."""
    with pytest.raises(ValueError, match="must match"):
        World().seed(**kwargs)


def test_attach_rules_raise_twilio_problems() -> None:
    """attach raises 80303, 21710 and 21712 as TwilioProblem; detach reports absence."""
    world = World()
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(1)])
    codes = []
    for service_sid, sid in ((MG_A, sc(9)), (MG_A, sc(1)), (MG_A, sc(1)), (MG_B, sc(1))):
        try:
            world.attach(service_sid, SHORT_CODE, sid)
        except TwilioProblem as problem:
            codes.append(problem.code)
    assert codes == [80303, 21710, 21712]
    assert world.detach(MG_B, SHORT_CODE, sc(1)) is False
    assert world.detach(MG_A, SHORT_CODE, sc(1)) is True
    assert world.pool(MG_A, SHORT_CODE) == []


def test_state_file_round_trip(tmp_path: Path) -> None:
    """save then load gives back the same account, keys, services, senders and pools."""
    world = World(auth_token="tok")
    world.add_api_key("SK" + "2" * 32, "key-secret")
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(n) for n in (3, 1, 2)])
    world.attach(MG_A, SHORT_CODE, sc(3))
    world.attach(MG_A, SHORT_CODE, sc(1))
    path = tmp_path / "state.json"
    world.save(path)
    loaded = World.load(path)
    assert loaded.to_json() == world.to_json()
    assert loaded.pool(MG_A, SHORT_CODE) == [sc(1), sc(3)]
    assert loaded.credentials_ok("SK" + "2" * 32, "key-secret")
    assert json.loads(path.read_text())["format"] == "bulkops-sandbox-world/1"


def test_save_replaces_atomically(tmp_path: Path) -> None:
    """save replaces an existing file and leaves no temporary file behind."""
    path = tmp_path / "state.json"
    path.write_text("old")
    World().save(path)
    assert json.loads(path.read_text())["services"] == []
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"format": "something-else/9"}',
        '{"format": "bulkops-sandbox-world/1", "account_sid": "nope", "auth_token": "t"}',
        json.dumps(
            {
                "format": "bulkops-sandbox-world/1",
                "account_sid": DEFAULT_ACCOUNT_SID,
                "auth_token": "t",
                "senders": [{"sid": sc(1), "kind": "short_code"}],
            }
        ),
        json.dumps(
            {
                "format": "bulkops-sandbox-world/1",
                "account_sid": DEFAULT_ACCOUNT_SID,
                "auth_token": "t",
                "max_senders_per_service": 0,
            }
        ),
    ],
    ids=["not-json", "not-object", "other-format", "bad-account", "incomplete-sender", "no-room"],
)
def test_load_rejects_bad_state_files(tmp_path: Path, content: str) -> None:
    """A file that is not a sandbox state raises UsageError naming the file."""
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=r"state\.json"):
        World.load(path)


def test_load_of_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A missing state file raises UsageError."""
    with pytest.raises(UsageError, match="cannot read"):
        World.load(tmp_path / "absent.json")
