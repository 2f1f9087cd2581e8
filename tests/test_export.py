"""``bulkops export`` against the sandbox over loopback: paging, the snapshot, retries, errors."""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sandbox_worlds import command_args, credentials_of, sandbox_env_with, world_with
from support import FakeClock, mg, sc

from bulkops import run_job
from bulkops.commands import export as export_mod
from bulkops.commands.cli import main
from bulkops.commands.connection import Connection, connection_from_args
from bulkops.commands.export import COLUMNS, export, gather_services, read_services_file
from bulkops.commands.verify import verify
from bulkops.config import Credentials, RunConfig
from bulkops.errors import JobFileError, RunAborted, UsageError
from bulkops.jobs import open_job
from bulkops.model import Op, Outcome, Row, SenderKind
from bulkops.retry import Backoff
from bulkops.sandbox import LoadProfile, Sandbox, SandboxThread
from bulkops.twilio import ServiceNotFound

SHORT = SenderKind.SHORT_CODE
TINY = Backoff(initial_s=0.001, cap_s=0.001, max_attempts=6)


def read_snapshot(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


def names_in(directory: Path) -> list[str]:
    """The sorted names in ``directory``: no stray temporary file may be left."""
    return sorted(p.name for p in directory.iterdir())


def to(sb: Sandbox, **options: Any) -> Connection:
    """A connection to ``sb`` with its own credentials, and ``options`` on top."""
    return Connection(base_url=sb.base_url, credentials=credentials_of(sb), **options)


BIG = [sc(n) for n in range(1, 1201)]  # more than one page of 1000
POOLS = {mg(1): BIG, mg(2): [sc(5001), sc(5002), sc(5003)], mg(3): []}


@pytest.mark.asyncio
async def test_export_writes_every_short_code_once_across_pages(tmp_path: Path) -> None:
    """Every short code of every service appears once, with its number and country."""
    world = world_with(POOLS, cap=2000)
    out = tmp_path / "snapshot.csv"
    async with Sandbox(world=world) as sb:
        summary = await export(list(POOLS), out, connection=to(sb))
        gets = sb.stats.by_method["GET"]
    rows = read_snapshot(out)
    assert [(r["service_sid"], r["sender"]) for r in rows] == [
        (service, sid) for service, sids in POOLS.items() for sid in sorted(sids)
    ]
    assert all(r["op"] == "attach" and r["country_code"] == "US" for r in rows)
    assert all(r["number"] == world.senders[r["sender"]].number for r in rows)
    assert {r["kind"] for r in rows} == {"short_code"}
    # ShortCodes: 1000 + 200 for the big one, one page each for the others; PhoneNumbers
    # and AlphaSenders: one (empty) page per service.
    assert (summary.services, summary.senders, summary.pages) == (3, 1203, 4 + 6)
    assert gets == 4 + 6


@pytest.mark.asyncio
async def test_snapshot_reads_back_as_a_valid_attach_job(tmp_path: Path) -> None:
    """The job reader takes the snapshot as it is: every row a valid attach row."""
    pools = {mg(1): [sc(1), sc(2)], mg(2): [sc(3)]}
    out = tmp_path / "snapshot.csv"
    async with Sandbox(world=world_with(pools)) as sb:
        await export(list(pools), out, connection=to(sb))
    rows = list(open_job(out).rows())
    assert rows == [
        Row(2, Op.ATTACH, mg(1), sc(1)),
        Row(3, Op.ATTACH, mg(1), sc(2)),
        Row(4, Op.ATTACH, mg(2), sc(3)),
    ]


@pytest.mark.asyncio
async def test_round_trip_export_detach_run_verify(tmp_path: Path) -> None:
    """Export, detach everything, run the snapshot as a job: the world is back and verifies."""
    pools = {mg(1): [sc(n) for n in range(1, 41)], mg(2): [sc(n) for n in range(41, 61)]}
    world = world_with(pools)
    before = {sid: s.service_sid for sid, s in world.senders.items()}
    out = tmp_path / "snapshot.csv"
    async with Sandbox(world=world) as sb:
        await export(list(pools), out, connection=to(sb))
        for service_sid, sids in pools.items():
            for sid in sids:
                assert world.detach(service_sid, SHORT, sid)
        detached = await verify(out, connection=to(sb))
        assert (detached.matches, detached.mismatches) == (0, 60)

        config = RunConfig(base_url=sb.base_url, rate_per_s=0, concurrency=8)
        summary = await run_job(
            out, config=config, credentials=credentials_of(sb), results=tmp_path / "r.jsonl"
        )
        restored = await verify(out, connection=to(sb))
    assert {outcome for outcome, _ in summary.counts} == {Outcome.SUCCEEDED}
    assert sum(summary.counts.values()) == 60
    assert {sid: s.service_sid for sid, s in world.senders.items()} == before
    assert restored.ok
    assert (restored.rows, restored.matches) == (60, 60)


@pytest.mark.asyncio
async def test_transient_503_on_a_list_call_is_retried(tmp_path: Path) -> None:
    """503s are retried with the injected backoff; the snapshot is still complete."""
    pools = {mg(n): [sc(100 * n + i) for i in range(5)] for n in range(1, 9)}
    clock = FakeClock()
    out = tmp_path / "snapshot.csv"
    load = LoadProfile(fail_503_p=0.4, seed=7)
    async with Sandbox(world=world_with(pools), load=load) as sb:
        summary = await export(
            list(pools),
            out,
            connection=to(sb, page_size=2, backoff=TINY, sleep=clock.sleep, rand=lambda: 0.5),
        )
        faults = sb.stats.faults
    assert faults["503"] > 0
    assert len(clock.waits) == faults["503"]
    assert set(clock.waits) == {0.0005}
    assert summary.senders == 40
    assert len(read_snapshot(out)) == 40


@pytest.mark.asyncio
async def test_retries_exhausted_aborts_and_keeps_the_old_snapshot(tmp_path: Path) -> None:
    """When a list call keeps failing the export aborts; the old file and directory are intact."""
    out = tmp_path / "snapshot.csv"
    out.write_text("old snapshot\n")
    backoff = Backoff(initial_s=0.001, cap_s=0.001, max_attempts=3)
    async with Sandbox(world=world_with({mg(1): [sc(1)]}), load=LoadProfile(fail_503_p=1)) as sb:
        connection = to(sb, backoff=backoff, sleep=FakeClock().sleep)
        with pytest.raises(
            RunAborted, match=rf"listing {mg(1)} ShortCodes failed after 3 attempts"
        ):
            await export([mg(1)], out, connection=connection)
        assert sb.stats.by_method["GET"] == 3
    assert out.read_text() == "old snapshot\n"
    assert names_in(tmp_path) == ["snapshot.csv"]


@pytest.mark.asyncio
async def test_an_api_it_cannot_reach_is_one_line_naming_the_cause(tmp_path: Path) -> None:
    """Nothing listening: the abort says what failed, with no HTTP status it never got."""
    async with Sandbox(world=world_with({})) as sb:
        closed = sb.base_url  # the port is closed once the sandbox has stopped
        credentials = credentials_of(sb)
    with pytest.raises(RunAborted) as caught:
        await export([mg(1)], tmp_path / "s.csv", connection=Connection(
            base_url=closed, credentials=credentials))  # fmt: skip
    reason = caught.value.reason
    assert reason == (
        f"listing {mg(1)} ShortCodes: cannot reach the API: "
        f"GET /v1/Services/{mg(1)}/ShortCodes: connection refused"
    )
    assert "None" not in reason


@pytest.mark.asyncio
async def test_unknown_service_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    """A 404 names the service, raises a UsageError (exit 2) and leaves no file behind."""
    out = tmp_path / "snapshot.csv"
    async with Sandbox(world=world_with({mg(1): [sc(1)]})) as sb:
        with pytest.raises(ServiceNotFound, match=mg(9)) as caught:
            await export([mg(1), mg(9)], out, connection=to(sb))
    assert isinstance(caught.value, UsageError)
    assert names_in(tmp_path) == []


@pytest.mark.asyncio
async def test_wrong_credentials_abort(tmp_path: Path) -> None:
    """A 401 aborts at once with a message about the credentials, not the service."""
    wrong = Credentials(username="AC" + "0" * 32, password="nope", account_sid="AC" + "0" * 32)
    async with Sandbox(world=world_with({mg(1): [sc(1)]})) as sb:
        connection = Connection(base_url=sb.base_url, credentials=wrong)
        with pytest.raises(RunAborted, match="authentication failed"):
            await export([mg(1)], tmp_path / "s.csv", connection=connection)
        assert sb.stats.by_method["GET"] == 1


# -- --service / --services ------------------------------------------------------------


def test_services_file_skips_blanks_and_comments(tmp_path: Path) -> None:
    """Blank lines, comment lines and trailing comments are ignored; a BOM is fine."""
    path = tmp_path / "services.txt"
    path.write_text(f"\ufeff# production\n{mg(1)}\n\n  {mg(2)}  # eu\n#{mg(3)}\n", "utf-8")
    assert read_services_file(path) == [mg(1), mg(2)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"{mg(1)}\n\nMGnope\n", r"services\.txt:3: 'MGnope' is not a Messaging Service SID"),
        (f"{mg(1)} {mg(2)}\n", r"services\.txt:1: .* is not a Messaging Service SID"),
        (b"\xff\xfe\n", r"services\.txt: not UTF-8 text"),
    ],
)
def test_bad_services_file_names_file_and_line(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    """A line that is not an MG SID is a JobFileError naming the file and the line."""
    path = tmp_path / "services.txt"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(JobFileError, match=message):
        read_services_file(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nothing.txt", r"nothing\.txt: no such file$"),
        (".", r": is a directory, not a list of services$"),
    ],
)
def test_unreadable_services_file(tmp_path: Path, name: str, message: str) -> None:
    """A services file the OS will not open is the one job-file-open error, naming it."""
    with pytest.raises(JobFileError, match=message) as caught:
        read_services_file(tmp_path / name)
    assert caught.value.path == str(tmp_path / name)
    assert caught.value.line is None


def test_gather_services_keeps_first_occurrence_and_checks_flags(tmp_path: Path) -> None:
    """--service values come first; repeats are dropped; a bad --service is refused."""
    path = tmp_path / "services.txt"
    path.write_text(f"{mg(2)}\n{mg(1)}\n{mg(3)}\n")
    assert gather_services([mg(1), mg(2), mg(1)], [path]) == [mg(1), mg(2), mg(3)]
    with pytest.raises(UsageError, match="--service 'MG1' is not"):
        gather_services(["MG1"])
    with pytest.raises(UsageError, match="no services to export"):
        gather_services([], [])


# -- the command ---------------------------------------------------------------------


parse = partial(command_args, export_mod.add_arguments)
sandbox_env = sandbox_env_with({mg(1): [sc(1), sc(2)], mg(2): [sc(3)]})


def test_run_command_writes_snapshot_and_summary(
    sandbox_env: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command exits 0 and prints one summary line on stderr."""
    services = tmp_path / "services.txt"
    services.write_text(f"# all of them\n{mg(2)}\n")
    out = tmp_path / "snap.csv"
    code = export_mod.run_command(
        parse(["--service", mg(1), "--services", str(services), "-o", str(out)])
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert captured.err == (
        f"bulkops: exported 3 senders (3 short codes) of 2 services to {out} (6 list calls)\n"
    )
    assert [r["sender"] for r in read_snapshot(out)] == [sc(1), sc(2), sc(3)]


def test_run_command_aborts_with_exit_3_on_wrong_token(
    sandbox_env: SandboxThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bad credentials exit 3 with one line, and write nothing."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token")
    code = export_mod.run_command(parse(["--service", mg(1), "-o", str(tmp_path / "s.csv")]))
    assert code == 3
    assert "export aborted, nothing written: authentication failed" in capsys.readouterr().err
    assert names_in(tmp_path) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--service", mg(1), "-o", "{tmp}/no/such/dir/s.csv"], "does not exist"),
        (["--service", mg(1), "-o", "{tmp}"], "is a directory"),
        (["-o", "{tmp}/s.csv"], "no services to export"),
    ],
)
def test_run_command_refuses_bad_input_before_any_call(
    sandbox_env: SandboxThread, tmp_path: Path, argv: list[str], message: str
) -> None:
    """Bad flags raise UsageError (exit 2 in the CLI) and make no request."""
    args = parse([a.replace("{tmp}", str(tmp_path)) for a in argv])
    with pytest.raises(UsageError, match=message):
        export_mod.run_command(args)
    assert sandbox_env.stats.requests == 0


def test_unreadable_services_file_exits_2_before_any_call(
    sandbox_env: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI, a missing --services file is exit 2 with one line naming it."""
    missing = tmp_path / "nothing.txt"
    code = main(["export", "--services", str(missing), "-o", str(tmp_path / "s.csv")])
    assert code == 2
    assert capsys.readouterr().err == f"bulkops: error: {missing}: no such file\n"
    assert sandbox_env.stats.requests == 0


# -- the flags export and verify share -----------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-attempts", "101"], "argument --max-attempts: value must be at most 100, got 101"),
        (["--max-attempts", "0"], "argument --max-attempts: value must be positive, got 0"),
        (["--max-attempts", "two"], "argument --max-attempts: not a whole number: 'two'"),
        (["--timeout", "0"], "argument --timeout: value must be positive, got 0.0"),
        (["--timeout", "-3"], "argument --timeout: value must be positive, got -3.0"),
        (["--timeout", "inf"], "argument --timeout: value must be a finite number, got inf"),
    ],
)
def test_connection_flags_refuse_bad_numbers_with_exit_2(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-positive timeout or attempts, or attempts over the cap, is argparse's exit 2."""
    with pytest.raises(SystemExit) as caught:
        parse(["--service", mg(1), "-o", "s.csv", *flags])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: {message}\n")


def test_connection_from_args_reads_the_flags_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The flags give the URL, timeout and attempts (100 is allowed); TWILIO_* the credentials."""
    env = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "token"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    flags = ["--base-url", "http://127.0.0.1:9/", "--timeout", "2.5", "--max-attempts", "100"]
    args = parse(["--service", mg(1), "-o", "s.csv", *flags])
    assert connection_from_args(args) == Connection(
        base_url="http://127.0.0.1:9",
        credentials=Credentials.from_env(env),
        timeout_s=2.5,
        backoff=Backoff(max_attempts=100),
    )
