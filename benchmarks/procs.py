"""Run one child process and measure it alone: wall time, CPU time and peak RSS.

Linux keeps a process's peak RSS across ``fork`` and ``exec``: a child forked
from this harness (matplotlib, psutil and all) would report at least the
harness's size. So each measured command is started by a tiny launcher
(``python -S``, a few MiB) that forks it, reaps it with ``os.wait4`` (the usage
of exactly that child) and writes wall time, CPU time, peak RSS and exit status
to a file. The launcher runs in its own session, so a timeout kills the whole
group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Forks argv, waits for it, writes "wall_s cpu_s maxrss_kib exit_status" to argv[1].
_LAUNCHER = """\
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall_s = time.perf_counter() - started
with open(out, "w") as handle:
    cpu_s = usage.ru_utime + usage.ru_stime
    handle.write(f"{wall_s} {cpu_s} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


@dataclass(frozen=True, slots=True)
class ChildRun:
    """What one child process did and cost."""

    #: Exit status (negative: killed by that signal); None if it was killed on timeout.
    returncode: int | None
    #: Wall time from spawn to exit, seconds.
    wall_s: float
    #: User + system CPU time of the child, seconds.
    cpu_s: float
    #: Peak resident set size of the child, MiB.
    max_rss_mib: float
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_child(  # noqa: PLR0913 - keyword-only options, as subprocess.run takes them
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout_s: float,
    cwd: Path,
    stdout_path: Path | None = None,
    stderr_path: Path,
) -> ChildRun:
    """Run ``argv`` to completion (its group killed after ``timeout_s``) and measure it.

    stdout goes to ``stdout_path`` (``os.devnull`` allowed) and is returned only
    when it is a regular file; stderr always goes to ``stderr_path``.
    """
    out_path = stdout_path or stderr_path.with_suffix(".out")
    usage_path = stderr_path.with_suffix(".usage")
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(usage_path), *argv]
    usage_path.unlink(missing_ok=True)
    timed_out = False
    with open(out_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            launcher, env=dict(env), cwd=cwd, stdout=out, stderr=err, start_new_session=True
        )
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    fields = usage_path.read_text().split() if usage_path.exists() and not timed_out else []
    wall_s, cpu_s, rss_kib, status = (
        (float(fields[0]), float(fields[1]), int(fields[2]), int(fields[3]))
        if len(fields) == 4
        else (timeout_s, 0.0, 0, None)
    )
    text = out_path.read_text(errors="replace") if out_path.is_file() else ""
    return ChildRun(
        returncode=None if timed_out else status,
        wall_s=wall_s,
        cpu_s=cpu_s,
        max_rss_mib=rss_kib / 1024,  # Linux reports KiB
        stdout=text,
        stderr=stderr_path.read_text(errors="replace"),
    )
