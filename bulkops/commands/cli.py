"""The ``bulkops`` command line: the parser and the dispatch, nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import Exit, JobFileError, UsageError
from ..model import Op
from ..sandbox import flags as sandbox_flags
from . import export, plan, report, verify
from . import run as runner
from .connection import add_egress_arguments


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run", help="run a job file", description="Make the Twilio calls a job file asks for."
    )
    add = run.add_argument
    # fmt: off
    add("job", metavar="JOB", help="CSV (with header) or .jsonl job file")
    add("--op", choices=[op.value for op in Op], help="operation for rows without an 'op'")
    add("--results", metavar="PATH",
        help="result log, JSON Lines (default results/<job>-<UTC time>.jsonl)")
    add("--resume", action="store_true",
        help="skip rows --results already records as succeeded or invalid; append the rest")
    add("--rate", type=float, default=25.0, metavar="R",
        help="calls started per second at most; 0 = no limit (default 25)")
    add("--concurrency", type=int, default=16, metavar="N",
        help="calls in flight at most; bulkops finds the account's limit below it (default 16)")
    add("--max-attempts", type=int, default=6, metavar="N",
        help="tries per call for 429, 5xx and network errors (default 6)")
    add("--timeout", type=float, default=30.0, metavar="S", help="seconds per request (default 30)")
    add("--max-failures", type=int, metavar="N", help="stop the run at the N-th failed row")
    add("--max-failure-rate", type=float, metavar="P",
        help="stop when more than P (0 <= P < 1) of the last 100 rows failed")
    add("--grace", type=float, default=10.0, metavar="S",
        help="seconds in-flight calls get to finish after Ctrl-C (default 10)")
    add("--settle", type=float, default=5.0, metavar="S",
        help="seconds before a write that got no answer is read back (default 5)")
    add("--base-url", metavar="URL",
        help="API base URL (default https://messaging.twilio.com; env BULKOPS_BASE_URL)")
    add_egress_arguments(run)
    add("--dry-run", action="store_true", help="validate, print what would be sent, send nothing")
    add("--sandbox", action="store_true",
        help="run against an embedded local sandbox seeded from the job")
    add("--state", metavar="FILE",
        help="with --sandbox: the sandbox's world from FILE if it exists (not seeded); saved back")
    add("--log-format", choices=["console", "json"], default="console",
        help="event log on stderr: for people (default) or JSON lines")
    add("-v", "--verbose", action="store_true", help="log every retry")
    add("-q", "--quiet", action="store_true", help="no progress display")
    # fmt: on
    sandbox_flags.add_load_arguments(run)
    run.set_defaults(handler=runner.cmd_run)


def _serve_sandbox(args: argparse.Namespace) -> int:
    """``bulkops sandbox``: the server is loaded only when it is asked for."""
    from ..sandbox.cli import run_sandbox

    return run_sandbox(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkops",
        description="Bulk operations on the senders of Twilio Messaging Services.",
    )
    parser.add_argument("--version", action="version", version=f"bulkops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)
    for name, help_, description, add_arguments, handler in (
        (
            "sandbox",
            "serve a local fake of Twilio's Messaging API",
            "Serve a local fake of Twilio's Messaging Services sender API.",
            sandbox_flags.add_sandbox_arguments,
            _serve_sandbox,
        ),
        (
            "export",
            "write services' senders as an attach job (a snapshot)",
            "List every sender of each service and write them as an attach job.",
            export.add_arguments,
            export.run_command,
        ),
        (
            "plan",
            "write the job that puts every sender where a file says",
            "List where senders are and write the job that puts them where DESIRED says.",
            plan.add_arguments,
            plan.run_command,
        ),
        (
            "verify",
            "check that the world holds what a job asks",
            "Check, with one paged list per service, that the world matches a job.",
            verify.add_arguments,
            verify.run_command,
        ),
        (
            "report",
            "summarise a results file",
            "Summarise a result log (one run or several resumed ones).",
            report.add_arguments,
            report.run_command,
        ),
    ):
        sub = commands.add_parser(name, help=help_, description=description)
        add_arguments(sub)
        sub.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, JobFileError) as exc:
        print(f"bulkops: error: {exc}", file=sys.stderr)
        return Exit.USAGE
    except KeyboardInterrupt:
        print("bulkops: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:  # e.g. `bulkops verify JOB | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.BROKEN_PIPE
    except OSError as exc:  # the world, not a bug: e.g. the disk filled as the log closed
        if exc.errno is None:
            raise  # e.g. a stray TimeoutError: a bug, with its traceback
        print(f"bulkops: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return Exit.ABORTED


if __name__ == "__main__":
    sys.exit(main())
