"""The ``bulkops`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import chain
from pathlib import Path

from structlog.typing import FilteringBoundLogger

from . import __version__, jobs
from .client import TwilioClient
from .config import Credentials, RunConfig, resolve_base_url
from .engine import Engine, invalid_result, utc_timestamp
from .errors import JobFileError, RunAborted, UsageError
from .logs import make_logger
from .model import InvalidRow, Op, Outcome, Row
from .results import ResultJournal, default_results_path, summary_line
from .sandbox import LoadProfile, Sandbox, World
from .sandbox import cli as sandbox_cli

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ABORTED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulkops",
        description="Bulk operations on the senders of Twilio Messaging Services.",
    )
    parser.add_argument("--version", action="version", version=f"bulkops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run a job file", description="Make the Twilio calls a job file asks for."
    )
    run.add_argument("job", metavar="JOB", help="CSV (with header) or .jsonl job file")
    run.add_argument("--op", choices=[op.value for op in Op], help="operation for rows without one")
    run.add_argument(
        "--results",
        metavar="PATH",
        help="result log (JSON Lines); default results/<job>-<UTC time>.jsonl",
    )
    run.add_argument(
        "--rate",
        type=float,
        default=25.0,
        metavar="R",
        help="calls started per second at most; 0 = no limit (default 25)",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        default=16,
        metavar="N",
        help="calls in flight at most (default 16)",
    )
    run.add_argument(
        "--max-attempts",
        type=int,
        default=6,
        metavar="N",
        help="tries per row for transient failures (default 6)",
    )
    run.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds per request (default 30)"
    )
    run.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (default https://messaging.twilio.com; env BULKOPS_BASE_URL)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="validate and print what would be sent; send nothing"
    )
    run.add_argument(
        "--sandbox",
        action="store_true",
        help="run against an embedded local sandbox seeded from the job",
    )
    run.add_argument("--log-format", choices=["console", "json"], default="console")
    run.add_argument("-v", "--verbose", action="store_true", help="log every retry")
    sandbox_cli.add_load_arguments(run)
    run.set_defaults(handler=cmd_run)

    sandbox = commands.add_parser(
        "sandbox",
        help="serve a local fake of Twilio's Messaging API",
        description="Serve a local fake of Twilio's Messaging Services sender API.",
    )
    sandbox_cli.add_sandbox_arguments(sandbox)
    sandbox.set_defaults(handler=sandbox_cli.run_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, JobFileError) as exc:
        print(f"bulkops: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bulkops: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def open_job(path: str, default_op: Op | None) -> Iterator[Row | InvalidRow]:
    """Check the file as a whole, then return its rows; raises JobFileError up front."""
    jobs.scan(path)
    rows = jobs.iter_job(path, default_op=default_op)
    first = next(rows, None)  # reads the header: a bad one raises here
    return rows if first is None else chain([first], rows)


def cmd_run(args: argparse.Namespace) -> int:
    default_op = Op(args.op) if args.op else None
    config = RunConfig(
        default_op=default_op,
        concurrency=args.concurrency,
        rate_per_s=args.rate,
        max_attempts=args.max_attempts,
        timeout_s=args.timeout,
    )
    items = open_job(args.job, default_op)
    if args.dry_run:
        return dry_run(args.job, items)
    if args.sandbox:
        if args.base_url:
            raise UsageError("--sandbox and --base-url exclude each other")
        try:
            load = sandbox_cli.load_profile_from_args(args)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        credentials = None
    else:
        credentials = Credentials.from_env()
        config = replace(config, base_url=resolve_base_url(args.base_url))
    results = Path(args.results) if args.results else default_results_path(args.job)
    log = make_logger(
        json_format=args.log_format == "json",
        verbose=args.verbose,
        secrets=credentials.secrets if credentials else (),
    )
    started = time.monotonic()
    code = EXIT_OK
    with ResultJournal(results) as journal:
        try:
            if credentials is None:
                asyncio.run(_run_in_sandbox(args.job, load, config, items, journal, log))
            else:
                asyncio.run(_run(config, credentials, items, journal, log))
        except RunAborted as exc:
            log.error("bulkops.run.aborted", reason=exc.reason)
            print(f"bulkops: run aborted: {exc.reason}", file=sys.stderr)
            code = EXIT_ABORTED
        except KeyboardInterrupt:
            code = EXIT_INTERRUPTED
    if code == EXIT_OK and any(o is not Outcome.SUCCEEDED for o, _ in journal.counts):
        code = EXIT_FAILED
    duration_s = time.monotonic() - started
    print(
        "bulkops: " + summary_line(journal.counts, duration_s=duration_s, path=results),
        file=sys.stderr,
    )
    return code


async def _run_in_sandbox(
    job: str,
    load: LoadProfile,
    config: RunConfig,
    items: Iterable[Row | InvalidRow],
    journal: ResultJournal,
    log: FilteringBoundLogger,
) -> None:
    """Start an embedded sandbox seeded from the job, run against it, report its world."""
    world = World()
    sandbox_cli.seed_from_job(world, job)
    async with Sandbox(world=world, load=load) as sandbox:
        credentials = Credentials(
            username=sandbox.account_sid,
            password=sandbox.auth_token,
            account_sid=sandbox.account_sid,
        )
        log.info("bulkops.sandbox.started", base_url=sandbox.base_url, **world.summary())
        await _run(replace(config, base_url=sandbox.base_url), credentials, items, journal, log)
        log.info("bulkops.sandbox.finished", **world.summary())


async def _run(
    config: RunConfig,
    credentials: Credentials,
    items: Iterable[Row | InvalidRow],
    journal: ResultJournal,
    log: FilteringBoundLogger,
) -> None:
    log.info(
        "bulkops.run.started",
        base_url=config.base_url,
        concurrency=config.concurrency,
        rate_per_s=config.rate_per_s,
        results=str(journal.path),
    )
    async with TwilioClient.open(
        base_url=config.base_url,
        credentials=credentials,
        pool_size=config.concurrency,
        timeout_s=config.timeout_s,
        kind=config.kind,
    ) as client:
        await Engine(config, client, journal, log=log).run(items)
    log.info(
        "bulkops.run.finished",
        **{f"{o.value}.{d.value}": n for (o, d), n in journal.counts.items()},
    )


def dry_run(job: str, items: Iterator[Row | InvalidRow]) -> int:
    """Print the call each valid row would make, and each invalid row's problem."""
    out, err = sys.stdout, sys.stderr
    valid = invalid = 0
    for item in items:
        if isinstance(item, InvalidRow):
            invalid += 1
            rec = invalid_result(item, finished_at=utc_timestamp())
            print(f"{job}:{rec.line}: invalid: {rec.message}", file=err)
            continue
        valid += 1
        base = f"/v1/Services/{item.service_sid}/{item.kind.collection}"
        if item.op is Op.ATTACH:
            out.write(f"{item.line}\tPOST {base}\t{item.kind.create_param}={item.sender_sid}\n")
        else:
            method = "DELETE" if item.op is Op.DETACH else "GET"
            out.write(f"{item.line}\t{method} {base}/{item.sender_sid}\n")
    print(
        f"bulkops: dry run: {valid:,} calls would be made, {invalid:,} invalid rows; "
        "nothing was sent",
        file=err,
    )
    return EXIT_FAILED if invalid else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
