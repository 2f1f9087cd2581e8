"""The bulkops sandbox in its own process, so client and server never share a loop or a core.

``python -m bulkops.sandbox --port 0 --seed-from JOB [load flags]`` prints an
``export BULKOPS_BASE_URL=... TWILIO_ACCOUNT_SID=... TWILIO_AUTH_TOKEN=...`` line;
:class:`SandboxProcess` waits for it, reads ``/sandbox/stats`` over loopback, and
stops the server with SIGTERM (then SIGKILL) on exit.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class SandboxError(RuntimeError):
    """The sandbox did not start, or did not answer."""


class SandboxProcess:
    """``with SandboxProcess(job, workdir, load_flags) as sb:`` serves until the block ends."""

    def __init__(
        self, job: Path, workdir: Path, load_flags: Sequence[str] = (), *, cwd: Path
    ) -> None:
        self.argv = [
            sys.executable, "-m", "bulkops.sandbox", "--port", "0", "--seed-from", str(job),
            *load_flags,
        ]  # fmt: skip
        self._workdir = workdir
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._ps: psutil.Process | None = None
        #: BULKOPS_BASE_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, from its export line.
        self.env: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return self.env["BULKOPS_BASE_URL"]

    def __enter__(self) -> SandboxProcess:
        out = self._workdir / "sandbox.out"
        err = self._workdir / "sandbox.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            self._proc = subprocess.Popen(
                self.argv, cwd=self._cwd, stdout=stdout, stderr=stderr, env=child_env({})
            )
        self._ps = psutil.Process(self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in out.read_text(errors="replace").splitlines():
                if line.startswith("export "):
                    self.env = dict(part.split("=", 1) for part in shlex.split(line)[1:])
                    return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise SandboxError(f"sandbox did not start: {err.read_text(errors='replace')[-2000:]}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)

    def cpu_s(self) -> float:
        """CPU seconds the sandbox process has used so far."""
        assert self._ps is not None
        times = self._ps.cpu_times()
        return times.user + times.system

    def stats(self) -> dict[str, Any]:
        """``GET /sandbox/stats``."""
        return self._get_json("/sandbox/stats")

    def reset_stats(self) -> None:
        """``POST /sandbox/stats/reset``: counters and the timeline restart at now."""
        request = urllib.request.Request(self.base_url + "/sandbox/stats/reset", method="POST")
        with _opener.open(request, timeout=10) as response:
            response.read()

    def _get_json(self, path: str) -> dict[str, Any]:
        with _opener.open(self.base_url + path, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]


# No proxies from the environment: the sandbox is on loopback and nothing else is contacted.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

#: Variables that could send a client elsewhere or carry real credentials.
_SCRUBBED_PREFIXES = ("TWILIO_", "BULKOPS_")


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without Twilio/bulkops settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(extra)
    return env
