"""``bulkops plan`` on the command line: exit codes, what it prints, and --sandbox with --state.

Each test runs in its own directory with no Twilio settings from outside;
``--sandbox`` starts the embedded sandbox on a loopback port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import mg, pn

from bulkops.commands.cli import main
from bulkops.model import SenderKind
from bulkops.sandbox import World

ENV_NAMES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "BULKOPS_BASE_URL",
    "TWILIO_REGION",
    "TWILIO_EDGE",
)
A, B = mg(1), mg(2)
HEADER = "service_sid,sender\n"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def desired(rows: list[tuple[str, str]], name: str = "desired.csv") -> str:
    Path(name).write_text(HEADER + "".join(f"{s},{x}\n" for s, x in rows), encoding="utf-8")
    return name


def bulkops(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``bulkops`` with ``argv``: exit status and stderr."""
    code = main(list(argv))
    return code, capsys.readouterr().err


MIXED = [
    *[(A if i % 2 else B, f"+1415555{i:04d}") for i in range(30)],
    *[(A if i % 2 else B, f"{20000 + i}") for i in range(30)],
    (A, "Acme"),
    (B, "Acme"),
]


def test_plan_run_verify_share_one_sandbox_world_through_state(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """plan seeds and spreads; run applies the plan to that world; verify holds; plan is empty."""
    job = desired(MIXED)
    code, err = bulkops(capsys, "plan", job, "-o", "plan.csv", "--sandbox", "--state", "w.json")
    assert code == 0, err
    counts = json.loads(Path("plan.summary.json").read_text(encoding="utf-8"))["counts"]
    assert counts["attach"] > 0
    assert counts["migrate"] > 0
    assert counts["unchanged"] > 0
    assert counts["conflicts"] == 0
    assert f"bulkops: plan: {counts['attach']} to attach, {counts['migrate']} to move" in err
    assert "before → after  (limit 400)" in err
    assert "the run will make" in err
    rows = Path("plan.csv").read_text(encoding="utf-8").count("\n") - 1
    assert rows == counts["attach"] + counts["migrate"]

    code, err = bulkops(
        capsys, "run", "plan.csv", "--sandbox", "--state", "w.json", "-q", "--rate", "0"
    )
    assert code == 0, err
    assert f"{rows} succeeded" in err
    code, err = bulkops(capsys, "verify", job, "--op", "attach", "--sandbox", "--state", "w.json")
    assert code == 0, err
    code, err = bulkops(
        capsys,
        "plan",
        job,
        "-o",
        "again.csv",
        "--sandbox",
        "--state",
        "w.json",
        "--detailed-exitcode",
    )
    assert code == 0, err
    assert Path("again.csv").read_text(encoding="utf-8") == (
        "service_sid,sender,kind,op,from_service_sid,number\n"
    )


def world_file(path: str) -> str:
    """A state file: A holds one phone number; B exists; a second number is in no service."""
    world = World()
    for service in (A, B):
        world.add_service(service)
    world.add_sender(SenderKind.PHONE_NUMBER, pn(1), "+14155550001", service_sid=A)
    world.add_sender(SenderKind.PHONE_NUMBER, pn(2), "+14155550002")
    world.save(path)
    return path


@pytest.mark.parametrize(
    ("rows", "flags", "code"),
    [
        ([(A, pn(1))], [], 0),
        ([(A, pn(1))], ["--detailed-exitcode"], 0),
        ([(B, pn(1))], [], 0),
        ([(B, pn(1))], ["--detailed-exitcode"], 2),
        ([(B, pn(1)), (A, "+14155559999")], [], 1),
        ([(B, pn(1)), (A, "+14155559999")], ["--detailed-exitcode"], 1),
    ],
    ids=["none", "none-detailed", "changes", "changes-detailed", "conflict", "conflict-detailed"],
)
def test_exit_codes_plain_and_as_terraform(
    capsys: pytest.CaptureFixture[str], rows: list[tuple[str, str]], flags: list[str], code: int
) -> None:
    """0/1 by conflicts; --detailed-exitcode: 0 no changes, 2 changes, 1 conflicts."""
    state = world_file("w.json")
    job = desired(rows)
    status, err = bulkops(
        capsys, "plan", job, "-o", "plan.csv", "--sandbox", "--state", state, *flags
    )
    assert status == code, err
    if len(rows) == 2:
        line = f"{job}:3: phone number +14155559999 for {A}: the account does not own it"
        assert line in err.splitlines()


def test_prune_detaches_what_the_file_does_not_list(capsys: pytest.CaptureFixture[str]) -> None:
    """A holds pn(1); the file wants only pn(2) there: --prune adds the detach of pn(1)."""
    state = world_file("w.json")
    job = desired([(A, pn(2))])
    status, err = bulkops(
        capsys, "plan", job, "-o", "plan.csv", "--sandbox", "--state", state, "--prune"
    )
    assert status == 0, err
    assert Path("plan.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        f"{A},{pn(1)},phone_number,detach,,+14155550001",
        f"{A},{pn(2)},phone_number,attach,,+14155550002",
    ]


@pytest.mark.parametrize("detailed", [False, True])
def test_a_file_error_exits_2_or_1_with_detailed_exitcode(
    capsys: pytest.CaptureFixture[str], detailed: bool
) -> None:
    """A missing desired file: one line naming it; Terraform's 1 under --detailed-exitcode."""
    flags = ["--detailed-exitcode"] if detailed else []
    status, err = bulkops(capsys, "plan", "missing.csv", "-o", "plan.csv", "--sandbox", *flags)
    assert status == (1 if detailed else 2)
    assert err.startswith("bulkops: error: missing.csv")
    assert not Path("plan.csv").exists()


def test_state_without_sandbox_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--state names the sandbox's world: alone it means nothing, for plan, run and verify."""
    job = desired([(A, pn(1))])
    for argv in (
        ["plan", job, "-o", "plan.csv", "--state", "w.json"],
        ["run", job, "--op", "attach", "--state", "w.json"],
        ["verify", job, "--op", "attach", "--state", "w.json"],
    ):
        status, err = bulkops(capsys, *argv)
        assert status == 2
        assert "--state applies only with --sandbox" in err
