"""The ``bulkops sandbox`` command: flags, world building, and a real run stopped by a signal."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import io
import json
import os
import select
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sandbox_helpers import MG_A, MG_B
from support import sc

from bulkops.errors import JobFileError
from bulkops.jobs import open_job
from bulkops.model import Op
from bulkops.sandbox import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, LoadProfile, World
from bulkops.sandbox.cli import build_world, run_sandbox
from bulkops.sandbox.flags import add_load_arguments, add_sandbox_arguments, load_profile_from_args
from bulkops.sandbox.seeding import seed_from_job

REPO = Path(__file__).parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bulkops sandbox")
    add_sandbox_arguments(parser)
    return parser.parse_args(argv)


def write_job(path: Path) -> Path:
    path.write_text(
        "service_sid,short_code_sid,op\n"
        f"{MG_A},{sc(1)},attach\n"
        f"{MG_B},{sc(2)},detach\n"
        f"MGbad,{sc(3)},attach\n"
        f"{MG_A},{sc(4)},fetch\n",
        encoding="utf-8",
    )
    return path


def test_defaults() -> None:
    """Without flags: loopback, port 8080, nothing seeded, and the faultless profile."""
    args = parse()
    assert (args.host, args.port, args.seed_from, args.state) == ("127.0.0.1", 8080, [], None)
    assert load_profile_from_args(args) == LoadProfile()


def test_every_load_profile_field_has_a_flag() -> None:
    """The load flags cover LoadProfile exactly, with dests ``sandbox_<field>``."""
    parser = argparse.ArgumentParser()
    add_load_arguments(parser)
    dests = {a.dest for a in parser._actions if a.dest.startswith("sandbox_")}
    assert dests == {f"sandbox_{f.name}" for f in dataclasses.fields(LoadProfile)}


def test_load_flags_build_the_profile() -> None:
    """Every load and fault flag lands in the LoadProfile."""
    args = parse(
        *("--max-in-flight", "5", "--max-per-second", "100", "--retry-after", "2"),
        *("--latency-ms", "20", "--latency-jitter-ms", "5", "--fail-500", "0.1"),
        *("--fail-503", "0.2", "--drop", "0.05", "--stall", "0.01", "--stall-s", "30"),
        *("--seed", "42"),
    )
    assert load_profile_from_args(args) == LoadProfile(
        max_in_flight=5,
        max_per_second=100,
        retry_after_s=2,
        latency_mean_ms=20,
        latency_jitter_ms=5,
        fail_500_p=0.1,
        fail_503_p=0.2,
        drop_p=0.05,
        stall_p=0.01,
        stall_s=30,
        seed=42,
    )


@pytest.mark.parametrize(
    "argv",
    [("--drop", "2"), ("--fail-500", "x"), ("--max-in-flight", "0"), ("--port", "-1")],
)
def test_bad_flag_values_are_usage_errors(argv: tuple[str, ...], capsys) -> None:
    """Out-of-range flag values stop argparse with exit status 2."""
    with pytest.raises(SystemExit) as exited:
        parse(*argv)
    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_non_loopback_host_is_refused() -> None:
    """--host that is not loopback exits 2 with a clear message, binding nothing."""
    log = io.StringIO()
    assert run_sandbox(parse("--host", "0.0.0.0"), out=io.StringIO(), log=log) == 2
    assert "loopback" in log.getvalue()


def test_inconsistent_profile_is_exit_2() -> None:
    """Fault probabilities adding up over 1 exit 2 with the reason."""
    log = io.StringIO()
    args = parse("--fail-500", "0.7", "--fail-503", "0.7")
    assert run_sandbox(args, out=io.StringIO(), log=log) == 2
    assert "add up" in log.getvalue()


def test_seed_from_job_makes_valid_rows_exist(tmp_path: Path) -> None:
    """Every valid row's service and short code exist afterwards, attached to nothing."""
    world = World()
    used, skipped = seed_from_job(
        world, open_job(write_job(tmp_path / "job.csv"), default_op=Op.FETCH)
    )
    assert (used, skipped) == (3, 1)
    assert set(world.services) == {MG_A, MG_B}
    assert set(world.senders) == {sc(1), sc(2), sc(4)}
    assert world.summary()["attached"] == 0


def test_unusable_job_file_is_exit_2(tmp_path: Path) -> None:
    """A --seed-from file that is not a job exits 2 naming it."""
    (tmp_path / "bad.csv").write_text("nothing,useful\n", encoding="utf-8")
    with pytest.raises(JobFileError):
        open_job(tmp_path / "bad.csv", default_op=Op.FETCH)
    log = io.StringIO()
    args = parse("--seed-from", str(tmp_path / "bad.csv"))
    assert run_sandbox(args, out=io.StringIO(), log=log) == 2
    assert "bad.csv" in log.getvalue()


def test_state_then_credential_flags_then_seeds(tmp_path: Path) -> None:
    """build_world loads --state, applies --account-sid/--auth-token, then seeds."""
    state = tmp_path / "state.json"
    saved = World()
    saved.seed(service_sids=[MG_B], short_code_sids=[sc(9)])
    saved.save(state)
    account = "AC" + "1" * 32
    args = parse(
        *("--state", str(state), "--account-sid", account, "--auth-token", "tok"),
        *("--seed-from", str(write_job(tmp_path / "job.csv"))),
    )
    world = build_world(args, log=io.StringIO())
    assert (world.account_sid, world.auth_token) == (account, "tok")
    assert {sc(9), sc(1)} <= set(world.senders)


def _read_lines(proc: subprocess.Popen[bytes], count: int, timeout_s: float = 20.0) -> list[str]:
    """The first ``count`` lines of the child's stdout, without blocking past ``timeout_s``."""
    assert proc.stdout is not None
    fd, buffer = proc.stdout.fileno(), b""
    while buffer.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], timeout_s)
        assert ready, f"the sandbox printed only {buffer!r} in time"
        chunk = os.read(fd, 4096)
        assert chunk, f"the sandbox exited after printing {buffer!r}"
        buffer += chunk
    return buffer.decode().splitlines()[:count]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_signalled_then_saves_state(tmp_path: Path, stop_signal: int) -> None:
    """A real run prints the URL and credentials, serves, stops cleanly and saves the world."""
    state = tmp_path / "state.json"
    job = write_job(tmp_path / "job.csv")
    command = [sys.executable, "-m", "bulkops.sandbox", "--port", "0", "--state", str(state)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [*command, "--seed-from", str(job)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        banner, export_line = _read_lines(proc, 2)
        assert banner.startswith("# bulkops sandbox serving http://127.0.0.1:")
        exports = dict(item.split("=", 1) for item in export_line.split()[1:])
        assert exports["TWILIO_ACCOUNT_SID"] == DEFAULT_ACCOUNT_SID
        assert exports["TWILIO_AUTH_TOKEN"] == DEFAULT_AUTH_TOKEN
        base_url = exports["BULKOPS_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:")
        token = f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()
        request = urllib.request.Request(
            f"{base_url}/v1/Services/{MG_A}/ShortCodes",
            data=f"ShortCodeSid={sc(1)}".encode(),
            headers={"Authorization": "Basic " + base64.b64encode(token).decode()},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        proc.send_signal(stop_signal)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert [s["service_sid"] for s in saved["senders"] if s["sid"] == sc(1)] == [MG_A]
