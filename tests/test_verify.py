"""``bulkops verify`` against the sandbox over loopback: checks, messages, one list per service."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sandbox_worlds import command_args, credentials_of, sandbox_env_with, world_with
from support import FakeClock, mg, sc

from bulkops.commands import verify as verify_mod
from bulkops.commands.checks import Holdings, Problem, check_row
from bulkops.commands.cli import main
from bulkops.commands.connection import Connection
from bulkops.commands.export import export
from bulkops.commands.verify import verify
from bulkops.errors import Exit, JobFileError, RunAborted, UsageError
from bulkops.model import Op, Row, SenderKind
from bulkops.retry import Backoff
from bulkops.sandbox import LoadProfile, Sandbox, SandboxThread

SHORT = SenderKind.SHORT_CODE
HEADER = "service_sid,short_code_sid,op,from_service_sid\n"


def to(sb: Sandbox, **options: Any) -> Connection:
    """A connection to ``sb`` with its own credentials, and ``options`` on top."""
    return Connection(base_url=sb.base_url, credentials=credentials_of(sb), **options)


def write_job(tmp_path: Path, rows: list[str], *, header: str = HEADER) -> Path:
    path = tmp_path / "job.csv"
    path.write_text(header + "".join(row + "\n" for row in rows))
    return path


#: mg(1) holds sc(1), sc(2); mg(2) holds sc(3); mg(3) exists and is empty; mg(9) does not exist.
POOLS = {mg(1): [sc(1), sc(2)], mg(2): [sc(3)]}


@pytest.mark.asyncio
async def test_every_op_that_holds_matches(tmp_path: Path) -> None:
    """attach, fetch and migrate rows find the sender attached; detach rows find it gone."""
    job = write_job(
        tmp_path,
        [
            f"{mg(1)},{sc(1)},attach,",
            f"{mg(1)},{sc(2)},fetch,",
            f"{mg(2)},{sc(3)},migrate,{mg(1)}",
            f"{mg(1)},{sc(3)},detach,",
            f"{mg(3)},{sc(999)},detach,",
        ],
    )
    problems: list[Problem] = []
    async with Sandbox(world=world_with(POOLS, extra_services=(mg(3),))) as sb:
        report = await verify(job, connection=to(sb), report=problems.append)
    assert problems == []
    assert report.ok
    # three services listed, a page each. sc(3) has a later row: only that one is checked.
    assert (report.rows, report.matches, report.services, report.pages) == (5, 4, 3, 3)
    assert report.superseded == 1


@pytest.mark.asyncio
async def test_mismatches_are_reported_with_their_lines(tmp_path: Path) -> None:
    """Each row that does not hold is reported with its line and what was found instead."""
    job = write_job(
        tmp_path,
        [
            f"{mg(1)},{sc(1)},attach,",  # 2: holds
            f"{mg(3)},{sc(999)},attach,",  # 3: in no service
            f"{mg(3)},{sc(4)},attach,",  # 4: in another listed service
            f"{mg(1)},{sc(2)},detach,",  # 5: still attached
            f"{mg(3)},{sc(5)},fetch,",  # 6: not in that service
            f"{mg(3)},{sc(3)},migrate,{mg(2)}",  # 7: not moved (its source is not listed)
            f"{mg(9)},{sc(998)},attach,",  # 8: the service does not exist
            f"{mg(1)},SCnope,attach,",  # 9: invalid
        ],
    )
    problems: list[Problem] = []
    pools = {mg(1): [sc(1), sc(2), sc(4), sc(5)], mg(2): [sc(3)]}
    async with Sandbox(world=world_with(pools, extra_services=(mg(3),))) as sb:
        report = await verify(job, connection=to(sb), report=problems.append)
    assert [(p.line, p.message) for p in problems] == [
        (3, f"{sc(999)} expected attached to {mg(3)} but it is not"),
        (4, f"{sc(4)} expected attached to {mg(3)} but it is attached to {mg(1)}"),
        (5, f"{sc(2)} expected not attached to {mg(1)} but it is"),
        (6, f"{sc(5)} expected attached to {mg(3)} but it is attached to {mg(1)}"),
        (7, f"{sc(3)} expected moved from {mg(2)} to {mg(3)} but it is not"),
        (8, f"{sc(998)} expected attached to {mg(9)} but service {mg(9)} does not exist"),
        (9, "invalid row: short_code_sid 'SCnope' does not match ^SC[0-9a-fA-F]{32}$"),
    ]
    assert [p.invalid for p in problems] == [False] * 6 + [True]
    assert (report.rows, report.matches, report.mismatches, report.invalid) == (8, 1, 6, 1)
    assert not report.ok


@pytest.mark.asyncio
async def test_one_paged_list_per_service_not_one_call_per_row(tmp_path: Path) -> None:
    """Hundreds of rows cost one list per distinct service: GETs equal the pages needed."""
    pools = {mg(1): [sc(n) for n in range(1, 121)], mg(2): [sc(n) for n in range(200, 230)]}
    rows = [f"{service},{sid},attach," for service, sids in pools.items() for sid in sids]
    rows += [f"{mg(1)},{sc(n)},fetch," for n in range(1, 121)]
    rows += [f"{mg(3)},{sc(999)},detach," for _ in range(50)]
    job = write_job(tmp_path, rows)
    async with Sandbox(world=world_with(pools, extra_services=(mg(3),))) as sb:
        report = await verify(job, connection=to(sb, page_size=50))
        gets, requests = sb.stats.by_method["GET"], sb.stats.requests
    assert report.ok
    assert report.rows == 320
    assert report.pages == 3 + 1 + 1  # 120 in pages of 50, 30, and the empty service
    assert gets == requests == report.pages


@pytest.mark.asyncio
async def test_transient_503_on_a_list_call_is_retried(tmp_path: Path) -> None:
    """A 503 on a list call is retried; the verdict is the same as without faults."""
    pools = {mg(n): [sc(10 * n + i) for i in range(3)] for n in range(1, 7)}
    job = write_job(tmp_path, [f"{m},{s},attach," for m, sids in pools.items() for s in sids])
    clock = FakeClock()
    async with Sandbox(world=world_with(pools), load=LoadProfile(fail_503_p=0.5, seed=3)) as sb:
        backoff = Backoff(initial_s=0.001, cap_s=0.001)
        report = await verify(job, connection=to(sb, backoff=backoff, sleep=clock.sleep))
        faults = sb.stats.faults["503"]
    assert faults > 0
    assert len(clock.waits) == faults
    assert report.ok
    assert report.matches == 18


@pytest.mark.asyncio
async def test_listing_that_keeps_failing_aborts(tmp_path: Path) -> None:
    """When retries run out verify aborts instead of reporting rows it could not check."""
    job = write_job(tmp_path, [f"{mg(1)},{sc(1)},attach,", f"{mg(2)},{sc(3)},attach,"])

    async with Sandbox(world=world_with(POOLS), load=LoadProfile(fail_500_p=1)) as sb:
        backoff = Backoff(initial_s=0.001, max_attempts=2)
        connection = to(sb, backoff=backoff, sleep=FakeClock().sleep)
        with pytest.raises(RunAborted, match=r"failed after 2 attempts: HTTP 500"):
            await verify(job, connection=connection)


@pytest.mark.asyncio
async def test_bad_job_file_raises_before_any_request(tmp_path: Path) -> None:
    """A job without the required columns is a JobFileError; nothing is sent."""
    job = write_job(tmp_path, [f"{mg(1)},attach"], header="service_sid,op\n")
    async with Sandbox(world=world_with(POOLS)) as sb:
        with pytest.raises(JobFileError, match="missing required column for the senders"):
            await verify(job, connection=to(sb))
        assert sb.stats.requests == 0


@pytest.mark.parametrize(
    ("op", "where", "expected"),
    [
        (Op.ATTACH, {sc(1): mg(1)}, None),
        (Op.ATTACH, {}, f"{sc(1)} expected attached to {mg(1)} but it is not"),
        (Op.FETCH, {sc(1): mg(2)}, f"{sc(1)} expected attached to {mg(1)} but it is attached to"),
        (Op.DETACH, {}, None),
        (Op.DETACH, {sc(1): mg(2)}, None),
        (Op.DETACH, {sc(1): mg(1)}, f"{sc(1)} expected not attached to {mg(1)} but it is"),
        (Op.MIGRATE, {sc(1): mg(1)}, None),
        (Op.MIGRATE, {sc(1): mg(2)}, f"{sc(1)} expected moved from {mg(2)} to {mg(1)} but it"),
    ],
)
def test_check_row(op: Op, where: dict[str, str], expected: str | None) -> None:
    """The rule per op, without any network."""
    source = mg(2) if op is Op.MIGRATE else None
    row = Row(2, op, mg(1), sc(1), from_service_sid=source)
    holdings = Holdings({s: [m] for s, m in where.items()}, frozenset(), services=2, pages=2)
    message = check_row(row, holdings)
    assert message == expected if expected is None else (message or "").startswith(expected)


# -- the command ---------------------------------------------------------------------


parse = partial(command_args, verify_mod.add_arguments)
sandbox_env = sandbox_env_with(POOLS)


def test_command_exits_0_when_everything_holds(
    sandbox_env: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All rows hold: exit 0, nothing on stdout, the summary on stderr."""
    job = write_job(
        tmp_path, [f"{mg(1)},{sc(1)}", f"{mg(2)},{sc(3)}"], header="ServiceSid,ShortCodeSid\n"
    )
    code = verify_mod.run_command(parse([str(job), "--op", "fetch"]))
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert captured.err == (
        "bulkops: verified 2 rows against 2 services (2 list calls): "
        "2 hold, 0 mismatches, 0 invalid\n"
    )


def test_command_exits_1_and_prints_job_line_per_mismatch(
    sandbox_env: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mismatch and an invalid row: exit 1, one ``JOB:LINE:`` line each on stdout."""
    job = write_job(
        tmp_path, [f"{mg(1)},{sc(1)},detach,", f"{mg(1)},{sc(2)},attach,", f"{mg(1)},{sc(3)},oops,"]
    )
    code = verify_mod.run_command(parse([str(job)]))
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out.splitlines() == [
        f"{job}:2: {sc(1)} expected not attached to {mg(1)} but it is",
        f"{job}:4: invalid row: unknown op 'oops' "
        "(expected one of: attach, detach, fetch, migrate)",
    ]
    assert "3 rows against 1 services (1 list calls): 1 hold, 1 mismatches, 1 invalid" in (
        captured.err
    )


def test_command_exits_3_on_wrong_token(
    sandbox_env: SandboxThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bad credentials abort with exit 3 and verify nothing."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token")
    code = verify_mod.run_command(parse([str(write_job(tmp_path, [f"{mg(1)},{sc(1)},attach,"]))]))
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out == ""
    assert "verify aborted, nothing verified: authentication failed" in captured.err


def test_command_missing_job_is_a_job_file_error(
    sandbox_env: SandboxThread, tmp_path: Path
) -> None:
    """A job that does not exist raises JobFileError (exit 2 in the CLI); nothing is sent."""
    with pytest.raises(JobFileError, match="no such file"):
        verify_mod.run_command(parse([str(tmp_path / "nope.csv")]))
    assert sandbox_env.stats.requests == 0


def test_the_job_file_is_checked_before_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing job is exit 2 naming it even without credentials, as for ``bulkops run``."""
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path / "nope.csv"
    assert main(["verify", str(missing)]) == Exit.USAGE
    assert capsys.readouterr().err == f"bulkops: error: {missing}: no such file\n"


@pytest.mark.asyncio
async def test_only_the_last_row_of_a_sender_is_checked(tmp_path: Path) -> None:
    """Attach then detach of one short code: the world after the job is "detached"; it holds."""
    job = write_job(tmp_path, [f"{mg(1)},{sc(7)},attach,", f"{mg(1)},{sc(7)},detach,"])
    problems: list[Problem] = []
    async with Sandbox(world=world_with({mg(1): [sc(1)]})) as sb:
        report = await verify(job, connection=to(sb), report=problems.append)
    assert problems == []
    assert (report.rows, report.matches, report.superseded, report.ok) == (2, 1, 1, True)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "value must be positive, got 0"), ("many", "not a whole number: 'many'")],
)
def test_concurrency_flag_refuses_what_is_not_a_positive_whole_number(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--concurrency`` below 1, or not a number, is argparse's exit 2 naming the flag."""
    with pytest.raises(SystemExit) as caught:
        parse(["job.csv", "--concurrency", text])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: argument --concurrency: {message}\n")


@pytest.mark.asyncio
async def test_zero_concurrency_is_refused_before_any_request(tmp_path: Path) -> None:
    """The library call checks ``concurrency`` too: a UsageError naming it, nothing sent."""
    job = write_job(tmp_path, [f"{mg(1)},{sc(1)},attach,"])
    async with Sandbox(world=world_with(POOLS)) as sb:
        with pytest.raises(UsageError, match="concurrency must be positive, got 0"):
            await verify(job, connection=to(sb), concurrency=0)
        assert sb.stats.requests == 0


@pytest.mark.asyncio
async def test_a_detach_from_a_service_that_does_not_exist_is_a_mismatch(tmp_path: Path) -> None:
    """A mistyped (well-formed) service SID: the detach did nothing, so the row does not hold."""
    job = write_job(tmp_path, [f"{mg(1)},{sc(1)},detach,", f"{mg(7)},{sc(2)},detach,"])
    problems: list[Problem] = []
    async with Sandbox(world=world_with({mg(1): [sc(2)]})) as sb:
        report = await verify(job, connection=to(sb), report=problems.append)
    assert [(p.line, p.message) for p in problems] == [
        (3, f"{sc(2)} expected detached from {mg(7)} but service {mg(7)} does not exist"),
    ]
    assert (report.matches, report.mismatches) == (1, 1)


@pytest.mark.asyncio
async def test_an_alpha_sender_in_three_services_is_checked_in_each(tmp_path: Path) -> None:
    """A snapshot of one text in three services, then removed from one: that row is a mismatch."""
    alpha = SenderKind.ALPHA_SENDER
    world = world_with({}, extra_services=(mg(1), mg(2), mg(3)))
    for service in (mg(1), mg(2), mg(3)):
        world.attach(service, alpha, "Acme Alerts")
    problems: list[Problem] = []
    async with Sandbox(world=world) as sb:
        snapshot = tmp_path / "snap.csv"
        await export([mg(1), mg(2), mg(3)], snapshot, connection=to(sb))
        held = world.by_number(alpha, "Acme Alerts", service_sid=mg(2))
        assert held is not None
        world.detach(mg(2), alpha, held.sid)
        report = await verify(snapshot, connection=to(sb), report=problems.append)
    assert [(p.line, p.message) for p in problems] == [
        (3, f"Acme Alerts expected attached to {mg(2)} but it is attached to {mg(1)}, {mg(3)}"),
    ]
    assert (report.rows, report.matches, report.mismatches, report.superseded) == (3, 2, 1, 0)


@pytest.mark.asyncio
async def test_an_alpha_sender_moved_after_it_was_attached_is_checked_by_its_move(
    tmp_path: Path,
) -> None:
    """Attach a text to A, then move it A → B: the move says where it ends (the attach is not)."""
    job = write_job(
        tmp_path,
        [f"{mg(1)},Brand,attach,", f"{mg(2)},Brand,migrate,{mg(1)}", f"{mg(3)},Brand,attach,"],
        header="service_sid,alpha_sender,op,from_service_sid\n",
    )
    world = world_with({}, extra_services=(mg(1), mg(2), mg(3)))
    world.attach(mg(2), SenderKind.ALPHA_SENDER, "Brand")
    world.attach(mg(3), SenderKind.ALPHA_SENDER, "Brand")
    problems: list[Problem] = []
    async with Sandbox(world=world) as sb:
        report = await verify(job, connection=to(sb), report=problems.append)
    assert problems == []
    assert (report.rows, report.matches, report.superseded) == (3, 2, 1)


@pytest.mark.asyncio
async def test_a_number_attached_to_two_services_is_two_mismatches(tmp_path: Path) -> None:
    """Two attaches of one short code to different services cannot both hold: both reported."""
    job = write_job(tmp_path, [f"{mg(1)},{sc(1)},attach,", f"{mg(2)},{sc(1)},attach,"])
    problems: list[Problem] = []
    async with Sandbox(world=world_with(POOLS)) as sb:
        report = await verify(job, connection=to(sb), report=problems.append)
    assert [(p.line, p.message) for p in problems] == [
        (
            2,
            f"{sc(1)} expected attached to {mg(1)} but superseded by line 3, which attaches "
            f"it to {mg(2)}: a short code can be in one service",
        ),
        (3, f"{sc(1)} expected attached to {mg(2)} but it is attached to {mg(1)}"),
    ]
    assert (report.mismatches, report.superseded, report.ok) == (2, 0, False)
