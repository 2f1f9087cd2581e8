"""``bulkops run`` from the command line: exit codes, messages, files, and secrets kept out.

Every test but one calls :func:`bulkops.commands.cli.main` in-process with captured
output, from inside its own temporary directory. Runs that need a Twilio to
talk to use ``--sandbox`` or a :class:`~bulkops.sandbox.SandboxThread` named by
environment variables; one test starts ``python -m bulkops`` as a subprocess.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from support import mg, sc

from bulkops.commands.cli import main
from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile, SandboxThread, World

MG_A, MG_B = mg(0xA), mg(0xB)
SECRET = "tok-9d3c1f0e8b7a6d5c4b3a2f1e"
HEADER = "service_sid,short_code_sid,op\n"
CREDS = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": SECRET}
ENV_NAMES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "TWILIO_REGION",
    "TWILIO_EDGE",
    "BULKOPS_BASE_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each test in its own directory, with no Twilio settings from the outside."""
    monkeypatch.chdir(tmp_path)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def job_file(name: str, rows: Sequence[tuple[str, str, str]]) -> str:
    """A CSV job (``service_sid,short_code_sid,op``) in the current directory; row i is line i+2."""
    body = "".join(f"{service},{sender},{op}\n" for op, service, sender in rows)
    Path(name).write_text(HEADER + body, encoding="utf-8")
    return name


def attach_rows(n: int, service: str = MG_A) -> list[tuple[str, str, str]]:
    return [("attach", service, sc(i)) for i in range(1, n + 1)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``bulkops`` with ``argv``: exit status, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def records(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def summary(err: str) -> str:
    """The run's summary line on stderr."""
    (line,) = [x for x in err.splitlines() if x.startswith("bulkops: ") and "Results: " in x]
    return line


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxThread]:
    """A sandbox in a thread whose token is SECRET, with the environment pointing at it."""
    world = World(auth_token=SECRET)
    world.seed(service_sids=[MG_A, MG_B], short_code_sids=[sc(i) for i in range(1, 41)])
    with SandboxThread(world=world, load=LoadProfile(fail_503_p=0.2, seed=2)) as sb:
        for name, value in sb.env().items():
            monkeypatch.setenv(name, value)
        yield sb


# -- exit 0 and 1 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "code", "counts"),
    [
        (attach_rows(3), 0, "3 succeeded (3 attached)"),
        (  # the sandbox stages sc(9) in MG_B, where the job detaches it first
            [*attach_rows(2), ("detach", MG_B, sc(9)), ("fetch", MG_A, sc(9))],
            1,
            "3 succeeded (2 attached, 1 detached); 1 failed (1 not_found)",
        ),
        ([*attach_rows(2), ("attach", "MG-nope", sc(9))], 1, "1 invalid (1 invalid_row)"),
        ([*attach_rows(2), ("attach", MG_A, sc(1))], 1, "1 skipped (1 duplicate)"),
    ],
    ids=["all-succeeded", "one-failed", "one-invalid", "one-duplicate"],
)
def test_exit_status_says_whether_every_row_succeeded(
    capsys: pytest.CaptureFixture[str], rows: list[tuple[str, str, str]], code: int, counts: str
) -> None:
    """0 when every row succeeded; 1 when any failed, was invalid or was skipped."""
    job = job_file("job.csv", rows)
    status, out, err = run(capsys, "run", job, "--sandbox", "--rate", "0", "--results", "r.jsonl")

    assert status == code
    line = summary(err)
    assert counts in line
    assert line.endswith("Results: r.jsonl")
    assert sorted(r["line"] for r in records("r.jsonl")) == list(range(2, len(rows) + 2))
    assert out == ""


def test_failed_rows_are_written_as_a_job_to_run_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A run with failures names a CSV of exactly the failed rows, itself a valid job."""
    elsewhere = [("detach", MG_B, sc(8)), ("detach", MG_A, sc(9))]  # staged there, then gone
    fetches = [("fetch", MG_A, sc(8)), ("fetch", MG_B, sc(9))]
    job = job_file("job.csv", [*attach_rows(2), *elsewhere, *fetches])
    status, _, err = run(capsys, "run", job, "--sandbox", "--rate", "0", "--results", "r.jsonl")

    assert status == 1
    assert "r.failed.csv" in err
    again = Path("r.failed.csv").read_text(encoding="utf-8").splitlines()
    assert again[0].split(",") == ["service_sid", "sender", "kind", "op", "from_service_sid"]
    assert sorted(again[1:]) == sorted(
        [f"{MG_A},{sc(8)},short_code,fetch,", f"{MG_B},{sc(9)},short_code,fetch,"]
    )
    status, _, _ = run(capsys, "run", "r.failed.csv", "--dry-run")
    assert status == 0


def test_a_job_of_fetches_finds_its_senders_in_the_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--sandbox`` puts each fetch row's sender in its service, as it does for detaches."""
    job = job_file("job.csv", [("fetch", MG_A, sc(1)), ("fetch", MG_B, sc(2))])
    status, _, err = run(capsys, "run", job, "--sandbox", "--rate", "0", "--results", "r.jsonl")

    assert status == 0
    assert "2 succeeded (2 fetched)" in summary(err)


def test_the_summary_line_counts_the_calls_that_resolved_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two numbers: two filtered GETs before the first write, named on the summary line."""
    Path("job.csv").write_text(
        f"service_sid,sender,op\n{MG_A},+14155550100,attach\n{MG_A},12345,attach\n",
        encoding="utf-8",
    )
    status, _, err = run(capsys, "run", "job.csv", "--sandbox", "--results", "r.jsonl")

    assert status == 0
    assert summary(err).endswith(
        "Results: r.jsonl (2 listing calls resolved the job's numbers first)"
    )


def test_default_results_path_is_under_results_with_the_job_name_and_utc_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --results the log is results/<job>-<UTC>.jsonl, and the summary names it."""
    job = job_file("nightly.csv", attach_rows(2))
    before = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    status, _, err = run(capsys, "run", job, "--sandbox", "--rate", "0")
    after = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())

    assert status == 0
    (written,) = Path("results").glob("*.jsonl")
    match = re.fullmatch(r"nightly-(\d{8}T\d{6}Z)\.jsonl", written.name)
    assert match is not None, written.name
    assert before <= match.group(1) <= after
    assert summary(err).endswith(f"Results: {Path('results') / written.name}")
    assert len(records(written)) == 2


def test_sandbox_load_flags_reach_the_embedded_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    """--max-in-flight and --latency-ms shape the embedded sandbox: rows meet 429s, and succeed."""
    job = job_file("job.csv", attach_rows(12))
    status, _, err = run(
        capsys, "run", job, "--sandbox", "--rate", "0", "--concurrency", "8",
        "--max-in-flight", "1", "--latency-ms", "20", "--max-attempts", "20",
        "--results", "r.jsonl",
    )  # fmt: skip

    assert status == 0, err
    got = records("r.jsonl")
    assert {r["outcome"] for r in got} == {"succeeded"}
    assert sum(r["throttled"] for r in got) > 0


def test_max_failures_stops_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    """--max-failures 2 stops a run of failing rows at the second failure: exit 3, resume hint."""
    job = job_file("job.csv", [("fetch", MG_A, sc(i)) for i in range(1, 31)])
    world = World()  # the short codes in no service: every fetch fails (not_found)
    world.seed(service_sids=[MG_A], short_code_sids=[sc(i) for i in range(1, 31)])
    world.save("world.json")
    status, _, err = run(
        capsys, "run", job, "--sandbox", "--state", "world.json", "--rate", "0",
        "--concurrency", "1", "--max-failures", "2", "--results", "r.jsonl",
    )  # fmt: skip

    assert status == 3
    assert "--max-failures 2" in err
    assert 2 <= len(records("r.jsonl")) < 30
    assert "--resume" in err


# -- exit 2: usage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env", "fragment"),
    [
        ([], {}, "TWILIO_ACCOUNT_SID"),
        ([], {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32}, "TWILIO_AUTH_TOKEN"),
        (
            [],
            {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_API_KEY": "SK" + "1" * 32},
            "TWILIO_API_SECRET",
        ),
        (["--base-url", "http://example.com"], CREDS, "refusing plain http to example.com"),
        (
            [],
            {**CREDS, "BULKOPS_BASE_URL": "http://example.com"},
            "refusing plain http to example.com",
        ),
        (["--base-url", "ftp://127.0.0.1"], CREDS, "not an http(s) URL"),
        (["--sandbox", "--base-url", "http://127.0.0.1:9"], {}, "exclude each other"),
        (["--sandbox", "--concurrency", "0"], {}, "--concurrency must be positive"),
        (["--sandbox", "--rate", "-1"], {}, "--rate must be 0"),
        (["--sandbox", "--timeout", "0"], {}, "--timeout must be positive"),
        (["--sandbox", "--resume"], {}, "--resume needs --results"),
        (["--sandbox", "--fail-500", "0.6", "--fail-503", "0.6"], {}, "more than 1"),
    ],
    ids=[
        "no-account",
        "no-token",
        "key-without-secret",
        "plain-http-flag",
        "plain-http-env",
        "not-http",
        "sandbox-and-base-url",
        "zero-concurrency",
        "negative-rate",
        "zero-timeout",
        "resume-without-results",
        "faults-over-one",
    ],
)
def test_usage_errors_exit_2_with_one_line_and_send_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    env: dict[str, str],
    fragment: str,
) -> None:
    """A wrong flag, setting or environment: exit 2, one line saying what, no file written."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    job = job_file("job.csv", attach_rows(2))
    status, out, err = run(capsys, "run", job, *flags)

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("bulkops: error: ")
    assert fragment in err
    assert SECRET not in err
    assert not Path("results").exists()


#: Every flag of ``bulkops run`` that takes a number, the sandbox's load and faults included.
NUMERIC_RUN_FLAGS = [
    "--rate", "--concurrency", "--max-attempts", "--timeout", "--max-failures",
    "--max-failure-rate", "--grace", "--max-in-flight", "--max-per-second", "--retry-after",
    "--latency-ms", "--latency-jitter-ms", "--fail-500", "--fail-503", "--drop", "--stall",
    "--stall-s", "--seed",
]  # fmt: skip


@pytest.mark.parametrize("value", ["nan", "inf"])
@pytest.mark.parametrize("flag", NUMERIC_RUN_FLAGS)
def test_nan_and_infinity_exit_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    """No numeric flag takes nan or inf (--rate nan once meant no limit): exit 2, nothing sent."""
    job = job_file("job.csv", attach_rows(1))
    try:
        status = main(["run", job, "--sandbox", flag, value])
    except SystemExit as stopped:  # refused by argparse, while parsing
        status = int(str(stopped.code))
    _, err = capsys.readouterr()

    assert status == 2
    assert flag in err
    assert value in err
    assert "Traceback" not in err
    assert not Path("results").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "job.csv", "--no-such-flag"],
        ["run", "job.csv", "--rate", "fast"],
        ["run", "job.csv", "--op", "delete"],
        ["run", "job.csv", "--sandbox", "--fail-503", "2"],
        ["run"],
        [],
    ],
    ids=["unknown-flag", "rate-not-a-number", "unknown-op", "probability-over-1", "no-job", "none"],
)
def test_bad_flags_exit_2_with_usage(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """Flags argparse refuses end the program with status 2 and a usage message, no traceback."""
    job_file("job.csv", attach_rows(1))
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    _, err = capsys.readouterr()

    assert stopped.value.code == 2
    assert err.startswith("usage: bulkops")
    assert "error:" in err
    assert "Traceback" not in err


# -- exit 2: the job file --------------------------------------------------------------

VALID_ROW = f"{MG_A},{sc(1)},attach\n"
NOT_UTF8 = (HEADER + VALID_ROW).encode() + f"{MG_A},SC\xff,attach\n".encode("latin-1")

#: The file's bytes (None: no file), where the message must point, and what it must say.
BAD_FILES = [
    pytest.param(None, "job.csv", "no such file", id="missing"),
    pytest.param(b"", "job.csv:1", "empty file", id="empty"),
    pytest.param(NOT_UTF8, "job.csv:3", "not UTF-8", id="not-utf8"),
    pytest.param(
        b"service_sid,op\n" + VALID_ROW.encode(), "job.csv:1", "'short_code_sid'",
        id="missing-column",
    ),
    pytest.param(
        f"service_sid,short_code_sid\n{MG_A},{sc(1)}\n".encode(), "job.csv:1", "no 'op' column",
        id="no-op-column",
    ),
    pytest.param(
        (HEADER + VALID_ROW + f'{MG_A},"{sc(2)}"x,attach\n' + VALID_ROW).encode(),
        "job.csv:3", "malformed CSV", id="text-after-quote",
    ),
    pytest.param(
        (HEADER + VALID_ROW + f'{MG_A},"{sc(2)},attach\n' + VALID_ROW).encode(),
        "job.csv:3", "malformed CSV", id="unterminated-quote",
    ),
    pytest.param(
        b'"service\nsid",short_code_sid,op\n' + VALID_ROW.encode(), "job.csv:", "service_sid",
        id="newline-in-header-cell",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("content", "where", "fragment"), BAD_FILES)
@pytest.mark.parametrize("mode", [["--sandbox"], ["--dry-run"]], ids=["sandbox", "dry-run"])
def test_a_bad_job_file_exits_2_with_one_line_naming_file_and_line(
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    where: str,
    fragment: str,
    mode: list[str],
) -> None:
    """A file that cannot be a job: exit 2, one stderr line "file:line: problem", nothing else."""
    if content is not None:
        Path("job.csv").write_bytes(content)
    status, out, err = run(capsys, "run", "job.csv", *mode, "--results", "r.jsonl")

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"bulkops: error: {where}")
    assert fragment in err
    assert "Traceback" not in err
    assert not Path("r.jsonl").exists()


@pytest.mark.parametrize("resume", [[], ["--resume"]], ids=["run", "resume"])
def test_a_results_path_that_cannot_be_written_exits_2(
    capsys: pytest.CaptureFixture[str], resume: list[str]
) -> None:
    """--results naming a directory: exit 2 with one line naming it, before anything is sent."""
    job = job_file("job.csv", attach_rows(2))
    Path("out").mkdir()
    status, out, err = run(capsys, "run", job, "--sandbox", "--results", "out", *resume)

    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("bulkops: error: out")
    assert "Traceback" not in err


# -- exit 3: bad credentials -----------------------------------------------------------


@pytest.mark.parametrize("use_api_key", [False, True], ids=["auth-token", "api-key"])
def test_wrong_credentials_exit_3_after_a_handful_of_calls(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sandbox_env: SandboxThread,
    use_api_key: bool,
) -> None:
    """A 401 on the pre-flight read stops the run: exit 3, one call, one line, no secret."""
    wrong = SECRET[::-1]
    if use_api_key:
        monkeypatch.setenv("TWILIO_API_KEY", "SK" + "5" * 32)
        monkeypatch.setenv("TWILIO_API_SECRET", wrong)
    else:
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", wrong)
    job = job_file("job.csv", attach_rows(40))
    status, out, err = run(
        capsys, "run", job, "--rate", "0", "--concurrency", "4", "-v", "--results", "r.jsonl"
    )
    stats = sandbox_env.stats.snapshot()

    assert status == 3
    assert [line for line in err.splitlines() if "bulkops:" in line] == [
        f"bulkops: error: authentication failed at 127.0.0.1:{sandbox_env.sandbox.port} "
        "(HTTP 401, Twilio code 20003): check TWILIO_ACCOUNT_SID and the token or API key"
    ]
    assert stats["requests"] == 1
    assert sandbox_env.world.summary()["attached"] == 0
    assert not Path("r.jsonl").exists()  # nothing was recorded
    for text in (out, err):
        assert wrong not in text
        assert SECRET not in text


# -- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_the_token_never_appears_in_any_output(
    capsys: pytest.CaptureFixture[str], sandbox_env: SandboxThread, log_format: str
) -> None:
    """A verbose run with retries writes logs, summary and results without the auth token."""
    job = job_file("job.csv", [*attach_rows(20), ("fetch", MG_A, sc(1)), ("attach", "MGx", sc(2))])
    status, out, err = run(
        capsys, "run", job, "--rate", "0", "-v", "--log-format", log_format,
        "--results", "r.jsonl",
    )  # fmt: skip

    assert status == 1  # the invalid row
    assert "bulkops.item.retry" in err  # the verbose log did run, retries and all
    assert sandbox_env.world.summary()["attached"] == 20
    texts = [out, err, *(p.read_text(encoding="utf-8") for p in Path().rglob("*") if p.is_file())]
    assert all(SECRET not in text for text in texts)


# -- dry run ---------------------------------------------------------------------------


def test_dry_run_shows_the_sids_it_cannot_know_as_placeholders(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Numbers and alpha senders' SIDs are looked up only by a run; an alpha migrate adds first."""
    Path("mixed.csv").write_text(
        "service_sid,sender,op,from_service_sid\n"
        f"{MG_A},+14155550100,attach,\n"
        f"{MG_A},Acme & Co,detach,\n"
        f"{MG_A},Acme & Co,migrate,{MG_B}\n"
        f"{MG_A},12345,fetch,\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "run", "mixed.csv", "--dry-run")
    assert status == 0
    assert out.splitlines() == [
        f"2\tPOST /v1/Services/{MG_A}/PhoneNumbers\tPhoneNumberSid=<PN… of +14155550100>",
        f"3\tDELETE /v1/Services/{MG_A}/AlphaSenders/<AI… of Acme & Co>",
        f"4\tPOST /v1/Services/{MG_A}/AlphaSenders\tAlphaSender=Acme & Co; "
        f"then DELETE /v1/Services/{MG_B}/AlphaSenders/<AI… of Acme & Co>",
        f"5\tGET /v1/Services/{MG_A}/ShortCodes/<SC… of 12345>",
    ]
    assert "4 rows to send (2 of them name a number that a run resolves to its SID first" in err
    assert "0 invalid, 0 duplicates; nothing was sent" in err


def test_dry_run_does_not_count_a_number_and_its_sid_as_two_senders_to_send(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A number and a SID may be one sender, and a number not the account's: the line says so."""
    Path("job.csv").write_text(
        f"service_sid,sender,op\n{MG_A},{sc(1)},attach\n{MG_A},12345,attach\n", encoding="utf-8"
    )
    status, _, err = run(capsys, "run", "job.csv", "--dry-run")
    assert status == 0
    (line,) = err.splitlines()
    assert line == (
        "bulkops: dry run: 2 rows to send (1 of them name a number that a run resolves to its "
        "SID first, so whether the account owns it, and whether it repeats a row naming that "
        "SID, is not judged here), 0 invalid, 0 duplicates; nothing was sent"
    )


@pytest.mark.parametrize("with_sandbox", [False, True], ids=["no-credentials", "live-sandbox"])
@pytest.mark.parametrize("with_invalid", [False, True], ids=["valid", "with-invalid"])
def test_dry_run_prints_the_calls_and_sends_nothing(
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    with_sandbox: bool,
    with_invalid: bool,
) -> None:
    """One planned call per valid row on stdout, invalid rows on stderr; no request, no file."""
    sb = request.getfixturevalue("sandbox_env") if with_sandbox else None
    rows = [("attach", MG_A, sc(1)), ("detach", MG_B, sc(2)), ("fetch", MG_A, sc(3))]
    if with_invalid:
        rows.insert(1, ("attach", MG_A, "SC123"))
    job = job_file("job.csv", rows)
    status, out, err = run(capsys, "run", job, "--dry-run")

    collection = SenderKind.SHORT_CODE.collection
    first, *rest = (4, 5) if with_invalid else (3, 4)
    assert out.splitlines() == [
        f"2\tPOST /v1/Services/{MG_A}/{collection}\tShortCodeSid={sc(1)}",
        f"{first}\tDELETE /v1/Services/{MG_B}/{collection}/{sc(2)}",
        f"{rest[0]}\tGET /v1/Services/{MG_A}/{collection}/{sc(3)}",
    ]
    invalid_lines = [x for x in err.splitlines() if ": invalid: " in x]
    if with_invalid:
        assert status == 1
        assert len(invalid_lines) == 1
        assert invalid_lines[0].startswith("job.csv:3: invalid: ")
        assert "SC123" in invalid_lines[0]
    else:
        assert status == 0
        assert invalid_lines == []
    assert "nothing was sent" in err
    if sb is not None:
        assert sb.stats.snapshot()["requests"] == 0
    assert list(Path().iterdir()) == [Path("job.csv")]


# -- the console entry -----------------------------------------------------------------


def test_python_dash_m_bulkops_runs_a_job(tmp_path: Path) -> None:
    """``python -m bulkops run JOB --sandbox`` works as a program: exit 0, summary, results."""
    job = job_file("job.csv", [*attach_rows(5), ("fetch", MG_A, sc(1))])
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    done = subprocess.run(
        [sys.executable, "-m", "bulkops", "run", job, "--sandbox", "--rate", "0",
         "--results", "r.jsonl"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "6 succeeded (5 attached, 1 fetched)" in summary(done.stderr)
    fetched = [r for r in records(tmp_path / "r.jsonl") if r["op"] == "fetch"]
    assert fetched[0]["short_code"]
    assert fetched[0]["capabilities"]


@pytest.mark.parametrize(
    ("job", "detail"),
    [
        ("detach-example.csv", "detached"),
        ("migrate-example.csv", "migrated"),
        ("mixed-example.csv", "attached"),
    ],
)
def test_sandbox_runs_put_senders_where_the_shipped_jobs_expect_them(
    capsys: pytest.CaptureFixture[str], job: str, detail: str
) -> None:
    """run --sandbox stages the world, so the shipped detach and migrate jobs do real work."""
    shipped = Path(__file__).resolve().parent.parent / "jobs" / job
    status, _, err = run(capsys, "run", str(shipped), "--sandbox", "--rate", "0", "-q",
                         "--results", "r.jsonl")  # fmt: skip
    assert status == 0, err
    records = [json.loads(line) for line in Path("r.jsonl").read_text().splitlines()]
    assert {r["detail"] for r in records} == {detail}
    if job == "mixed-example.csv":  # numbers by E.164, short codes by digits and SID, alpha
        assert {r["kind"] for r in records} == {"short_code", "phone_number", "alpha_sender"}
        assert all(r["sender_sid"] for r in records)


def test_sandbox_load_flags_without_sandbox_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--max-in-flight and friends shape the embedded sandbox only; elsewhere they are refused."""
    job = job_file("job.csv", attach_rows(1))
    status, _, err = run(capsys, "run", job, "--max-in-flight", "10")
    assert status == 2
    assert "only apply with --sandbox" in err


def test_an_os_error_the_run_cannot_handle_is_one_line_and_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. the disk fills just as the result log closes: a sentence, not a traceback."""

    async def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bulkops.commands.run.run_job", full_disk)
    job = job_file("job.csv", attach_rows(1))
    status, _, err = run(capsys, "run", job, "--sandbox", "--results", "r.jsonl", "-q")
    assert status == 3
    assert err.strip().splitlines()[-1] == (
        "bulkops: error: OSError: [Errno 28] No space left on device"
    )
    assert "Traceback" not in err


def test_a_run_collects_cyclic_garbage_less_often_and_puts_the_collector_back(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """During the run the collector's first threshold is RUN_GC_THRESHOLD; after it, as before.

    The run here stops with an OSError, so the thresholds come back on the way out too.
    """
    from bulkops.commands.run import RUN_GC_THRESHOLD

    during: list[int] = []

    async def watched(*_args: object, **_kwargs: object) -> None:
        during.append(gc.get_threshold()[0])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bulkops.commands.run.run_job", watched)
    before = gc.get_threshold()
    job = job_file("job.csv", attach_rows(1))
    status, _, _ = run(capsys, "run", job, "--sandbox", "--results", "r.jsonl", "-q")
    assert status == 3
    assert during == [RUN_GC_THRESHOLD]
    assert before[0] != RUN_GC_THRESHOLD
    assert gc.get_threshold() == before
