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
from bulkops.sandbox.accounts import friendly_name, rfc2822
from bulkops.sandbox.minting import ATTEMPTS, FIVE_DIGIT_ATTEMPTS, short_code_number

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


# -- every kind ----------------------------------------------------------------------

PHONE_NUMBER = SenderKind.PHONE_NUMBER
ALPHA_SENDER = SenderKind.ALPHA_SENDER


def pn(n: int) -> str:
    return f"PN{n:032x}"


def test_seeded_sids_get_numbers_and_numbers_get_sids() -> None:
    """A SID gets a derived number; a number gets a derived SID; both are found both ways."""
    world = World()
    [by_sid] = world.seed_senders(PHONE_NUMBER, [pn(7)])
    [by_number] = world.seed_senders(PHONE_NUMBER, ["+447700900123"])
    assert by_sid == pn(7)
    assert PHONE_NUMBER.spec.number_pattern.fullmatch(world.senders[pn(7)].number)
    assert PHONE_NUMBER.sid_pattern.fullmatch(by_number)
    assert world.by_number(PHONE_NUMBER, "+447700900123") is world.senders[by_number]
    assert world.senders[by_number].country_code == "GB"
    assert world.seed_senders(PHONE_NUMBER, ["+447700900123", pn(7)]) == [by_number, pn(7)]
    assert len(world.senders) == 2


def test_derived_numbers_never_collide() -> None:
    """Two SIDs whose derived short codes coincide get distinct numbers, the same every time."""
    first, second = sc(1), sc(1 + 90000)  # both derive 10001 at the first attempt
    worlds = [World(), World()]
    for world in worlds:
        world.seed_senders(SHORT_CODE, [first, second])
    numbers = [[w.senders[sid].number for sid in (first, second)] for w in worlds]
    assert numbers[0] == numbers[1]
    assert numbers[0][0] == "10001"
    assert numbers[0][1] != "10001"
    assert len(numbers[0][1]) == 5


def test_crowded_short_codes_grow_to_more_digits() -> None:
    """Once the 5-digit tries are used up, a short code gets 6 to 8 digits; still 3–8 digits."""
    fives = {short_code_number(7, attempt) for attempt in range(FIVE_DIGIT_ATTEMPTS)}
    longer = {short_code_number(7, attempt) for attempt in range(FIVE_DIGIT_ATTEMPTS, ATTEMPTS)}
    assert {len(n) for n in fives} == {5}
    assert {len(n) for n in longer} <= {6, 7, 8}
    assert len(longer) == ATTEMPTS - FIVE_DIGIT_ATTEMPTS
    assert all(SHORT_CODE.spec.number_pattern.fullmatch(n) for n in fives | longer)


def test_many_phone_numbers_are_distinct() -> None:
    """2,000 phone numbers seeded by SID have 2,000 distinct E.164 numbers."""
    world = World()
    world.seed_senders(PHONE_NUMBER, [pn(n) for n in range(2000)])
    numbers = {s.number for s in world.senders.values()}
    assert len(numbers) == 2000
    assert all(PHONE_NUMBER.spec.number_pattern.fullmatch(n) for n in numbers)


@pytest.mark.parametrize("value", ["Brand", "+1415", "SC" + "0" * 32, ""])
def test_seed_senders_rejects_what_is_no_sid_or_number_of_the_kind(value: str) -> None:
    """A phone number is seeded by PN SID or E.164 number; anything else raises ValueError."""
    with pytest.raises(ValueError, match="must match"):
        World().seed_senders(PHONE_NUMBER, [value])


def test_alpha_senders_are_not_seeded_on_the_account() -> None:
    """Alpha senders exist only in a service: seed_senders refuses them."""
    with pytest.raises(ValueError, match="only in a service"):
        World().seed_senders(ALPHA_SENDER, ["Brand"])


def test_alpha_rules() -> None:
    """attach by text makes an AI sender per service; 21709 bad text, 21710 same text; detach
    removes it."""
    world = World()
    world.seed(service_sids=[MG_A, MG_B])
    in_a = world.attach(MG_A, ALPHA_SENDER, "Brand")
    in_b = world.attach(MG_B, ALPHA_SENDER, "Brand")
    assert in_a.sid != in_b.sid
    assert ALPHA_SENDER.sid_pattern.fullmatch(in_a.sid)
    codes = []
    for text in ("Brand", "123", "Brand\n"):
        try:
            world.attach(MG_A, ALPHA_SENDER, text)
        except TwilioProblem as problem:
            codes.append(problem.code)
    assert codes == [21710, 21709, 21709]
    assert world.detach(MG_A, ALPHA_SENDER, in_a.sid) is True
    assert in_a.sid not in world.senders
    assert world.by_number(ALPHA_SENDER, "Brand", service_sid=MG_A) is None
    assert world.by_number(ALPHA_SENDER, "Brand", service_sid=MG_B) is in_b


def test_pool_limit_counts_phone_numbers_and_short_codes_not_alpha() -> None:
    """With a limit of 2, a short code and a phone number fill the pool; alpha senders still fit."""
    world = World(max_senders_per_service=2)
    world.seed(service_sids=[MG_A], short_code_sids=[sc(1), sc(2)], phone_number_sids=[pn(1)])
    world.attach(MG_A, SHORT_CODE, sc(1))
    world.attach(MG_A, PHONE_NUMBER, pn(1))
    world.attach(MG_A, ALPHA_SENDER, "Brand")
    with pytest.raises(TwilioProblem) as refused:
        world.attach(MG_A, SHORT_CODE, sc(2))
    assert refused.value.code == 21714
    assert world.pool_size(MG_A) == 2
    assert world.summary()["attached"] == 3


def test_state_round_trip_keeps_every_kind(tmp_path: Path) -> None:
    """save then load keeps phone numbers, short codes, alpha senders, their numbers and pools."""
    world = World()
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(1)], phone_number_sids=[pn(1)])
    [by_number] = world.seed_senders(PHONE_NUMBER, ["+14155550100"])
    world.attach(MG_A, PHONE_NUMBER, by_number)
    world.attach(MG_B, ALPHA_SENDER, "Brand")
    world.attach(MG_A, ALPHA_SENDER, "Brand")
    path = tmp_path / "state.json"
    world.save(path)
    loaded = World.load(path)
    assert loaded.to_json() == world.to_json()
    assert loaded.by_number(PHONE_NUMBER, "+14155550100") is loaded.senders[by_number]
    assert loaded.pool(MG_A, ALPHA_SENDER) == world.pool(MG_A, ALPHA_SENDER)
    created = loaded.attach(MG_A, ALPHA_SENDER, "Other").sid
    assert created not in world.senders  # the counter came back: no SID is reused
    with pytest.raises(TwilioProblem):
        loaded.attach(MG_B, ALPHA_SENDER, "Brand")


def test_state_file_of_short_codes_only_still_loads(tmp_path: Path) -> None:
    """A state file written before other kinds existed (no alpha counter) loads as it was."""
    old = {
        "format": "bulkops-sandbox-world/1",
        "account_sid": DEFAULT_ACCOUNT_SID,
        "auth_token": "t",
        "api_keys": {},
        "max_senders_per_service": 400,
        "services": [MG_A],
        "senders": [
            {
                "sid": sc(1),
                "kind": "short_code",
                "number": "55555",
                "country_code": "US",
                "capabilities": ["SMS"],
                "date_created": "2026-04-14T10:00:00Z",
                "date_updated": "2026-04-14T10:00:00Z",
                "service_sid": MG_A,
            }
        ],
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(old))
    world = World.load(path)
    assert world.senders[sc(1)].number == "55555"
    assert world.pool(MG_A, SHORT_CODE) == [sc(1)]
    assert world.by_number(SHORT_CODE, "55555") is world.senders[sc(1)]
    assert world.alpha_senders_created == 0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"number": "55555"}, "already"),
        ({"kind": "alpha_sender", "sid": "AI" + "1" * 32, "service_sid": None}, "in a service"),
        ({"kind": "pager"}, "pager"),
    ],
    ids=["number-twice", "alpha-nowhere", "unknown-kind"],
)
def test_state_file_with_impossible_senders_is_refused(
    tmp_path: Path, change: dict, problem: str
) -> None:
    """A number held twice, an alpha sender in no service or an unknown kind is a UsageError."""
    world = World()
    world.seed(service_sids=[MG_A])
    world.add_sender(SHORT_CODE, sc(1), "55555")
    doc = world.to_json()
    doc["senders"].append({**doc["senders"][0], "sid": sc(2), **change})
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UsageError, match=problem):
        World.load(path)


def test_dates_and_friendly_names_as_2010_writes_them() -> None:
    """2010-04-01 dates are RFC 2822 in UTC; a +1 number's friendly name is (NXX) NXX-XXXX."""
    assert rfc2822("2015-07-30T20:12:31Z") == "Thu, 30 Jul 2015 20:12:31 +0000"
    assert friendly_name("+14155550100") == "(415) 555-0100"
    assert friendly_name("+442071838750") == "+442071838750"
