"""The README's two copy-paste commands stay true."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

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
    words = shlex.split(COMMANDS[0].split("&&")[-1])
    assert words[:3] == [".venv/bin/bulkops", "run", words[2]]
    assert "--sandbox" in words
    assert (ROOT / words[2]).is_file()
