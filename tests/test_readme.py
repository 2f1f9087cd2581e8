"""The README's two copy-paste commands stay true."""

from __future__ import annotations

import csv
import re
import shlex
from collections import Counter
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"```sh\n(python3 -m venv .*)\n```", README)


def test_readme_has_the_main_and_the_test_command() -> None:
    """The quick start gives exactly two set-up-and-run commands."""
    assert len(COMMANDS) == 2


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """.ci/run runs the README's test command, so CI proves what newcomers run."""
    assert COMMANDS[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_main_command_names_a_job_that_exists_and_uses_the_sandbox() -> None:
    """The main command runs a job file shipped in jobs/ against the embedded sandbox."""
    program, command, job, *flags = shlex.split(COMMANDS[0].split("&&")[-1])
    assert (program, command) == (".venv/bin/bulkops", "run")
    assert "--sandbox" in flags
    assert PurePosixPath(job).parent == PurePosixPath("jobs")
    assert (ROOT / job).is_file()


def test_the_main_command_makes_the_calls_the_readme_promises() -> None:
    """The README's "It makes 240 attach calls" is the example job's count of rows and op."""
    job = shlex.split(COMMANDS[0].split("&&")[-1])[2]
    promised = re.search(r"It makes (\d+) (\w+) calls", README)
    assert promised is not None
    with (ROOT / job).open(encoding="utf-8", newline="") as handle:
        ops = Counter(row["op"] for row in csv.DictReader(handle))
    assert ops == {promised[2]: int(promised[1])}
