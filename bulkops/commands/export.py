"""``bulkops export``: every short code of some services, as a CSV that is itself an attach job.

Each service is listed by following ``next_page_url`` (``PageSize`` 1000), with
transient failures (429, 5xx, network) retried by :class:`~bulkops.retry.Backoff`.
Rows are streamed into a temporary file next to the target, which replaces it
(``os.replace``) only once every service has been listed: a failed export never
leaves half a snapshot, and an old snapshot at that path survives it.

The file's columns are ``service_sid,short_code_sid,op,short_code,country_code``
with ``op`` = ``attach``; the job reader ignores the last two, so
``bulkops run snapshot.csv`` puts the senders back where they were.

Exit codes: 0 written; 2 bad flags, a bad ``--services`` file or a service the
account does not have (HTTP 404); 3 the API refused the credentials or kept
failing past ``--max-attempts`` (nothing written).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config import Credentials, resolve_base_url
from ..errors import Exit, RunAborted, UsageError
from ..files import atomic_write
from ..model import SERVICE_SID, Op, SenderKind
from ..retry import Backoff
from ..twilio import Resource, TwilioClient
from ..twilio.listing import MAX_PAGE_SIZE, PageApi, ServiceLister, ServiceNotFound, Sleep

#: The snapshot's header: a job's three columns, then what a person wants to read.
COLUMNS = ("service_sid", "short_code_sid", "op", "short_code", "country_code")


class RowWriter(Protocol):
    """What :func:`atomic_csv` yields: a ``csv.writer``."""

    def writerow(self, row: Iterable[Any], /) -> Any: ...


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    services: int
    senders: int
    #: List calls that succeeded (one per page).
    pages: int
    path: Path

    def line(self) -> str:
        """One line a person can read."""
        return (
            f"exported {self.senders:,} short codes of {self.services:,} services "
            f"to {self.path} ({self.pages:,} list calls)"
        )


def read_services_file(path: str | Path) -> list[str]:
    """The service SIDs of a text file: one per line; blank lines and ``#`` comments ignored.

    Raises :class:`UsageError` naming the file (and line) for anything else.
    """
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = list(handle)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory, not a list of services") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    sids = []
    for number, text in enumerate(lines, start=1):
        sid = text.split("#", 1)[0].strip()
        if not sid:
            continue
        if not SERVICE_SID.fullmatch(sid):
            raise UsageError(
                f"{name}:{number}: {sid!r} is not a Messaging Service SID (MG + 32 hex digits)"
            )
        sids.append(sid)
    return sids


def gather_services(sids: Iterable[str], files: Iterable[str | Path] = ()) -> list[str]:
    """``--service`` values then each ``--services`` file's, validated, first occurrence kept."""
    found: dict[str, None] = {}
    for sid in sids:
        if not SERVICE_SID.fullmatch(sid):
            raise UsageError(
                f"--service {sid!r} is not a Messaging Service SID (MG + 32 hex digits)"
            )
        found.setdefault(sid)
    for path in files:
        for sid in read_services_file(path):
            found.setdefault(sid)
    if not found:
        raise UsageError("no services to export: give --service MG… or --services FILE")
    return list(found)


def check_output(path: str | Path) -> Path:
    """The output path, if a file can be written there; raises :class:`UsageError` if not."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target}: is a directory; give a file name with -o")
    if not target.parent.is_dir():
        raise UsageError(f"{target}: directory {target.parent} does not exist")
    return target


async def export_services(
    lister: ServiceLister, service_sids: Sequence[str], path: str | Path
) -> ExportSummary:
    """List every service and write the snapshot atomically; nothing is written on failure."""
    target = check_output(path)
    senders = 0
    with atomic_csv(target) as writer:
        writer.writerow(COLUMNS)
        for service_sid in service_sids:
            seen: set[str] = set()  # a page boundary that shifts must not repeat a row
            async with aclosing(lister.pages_of(service_sid)) as pages:
                async for page in pages:
                    for item in page:
                        sid = str(item.get("sid") or "")
                        if sid not in seen:
                            seen.add(sid)
                            writer.writerow(_row(service_sid, sid, item))
            senders += len(seen)
    return ExportSummary(
        services=len(service_sids), senders=senders, pages=lister.pages, path=target
    )


@contextmanager
def atomic_csv(target: Path) -> Iterator[RowWriter]:
    """A CSV writer on a temporary file that replaces ``target`` only if the block succeeds.

    Blocking writes inside the event loop are deliberate: a page at a time, to a
    local file, with nothing else running that they could hold up.
    """
    with atomic_write(target, newline="") as handle:
        yield csv.writer(handle, lineterminator="\n")


def _row(service_sid: str, sid: str, item: Resource) -> tuple[str, ...]:
    return (
        service_sid,
        sid,
        Op.ATTACH.value,
        str(item.get("short_code") or ""),
        str(item.get("country_code") or ""),
    )


async def export(
    service_sids: Sequence[str],
    path: str | Path,
    *,
    base_url: str,
    credentials: Credentials,
    timeout_s: float = 30.0,
    page_size: int = MAX_PAGE_SIZE,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> ExportSummary:
    """Open a client, list each service in turn and write the snapshot to ``path``."""
    async with TwilioClient.open(
        base_url=base_url,
        credentials=credentials,
        pool_size=1,
        timeout_s=timeout_s,
        kind=SenderKind.SHORT_CODE,
    ) as client:
        lister = ServiceLister(client, page_size=page_size, backoff=backoff, sleep=sleep, rand=rand)
        return await export_services(lister, service_sids, path)


# -- the command line -----------------------------------------------------------------


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--base-url``, ``--timeout`` and ``--max-attempts``; credentials come from TWILIO_*."""
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (default https://messaging.twilio.com; env BULKOPS_BASE_URL)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=30.0,
        metavar="S",
        help="seconds per request (default 30)",
    )
    parser.add_argument(
        "--max-attempts",
        type=_positive(int),
        default=6,
        metavar="N",
        help="tries per list call for transient failures (default 6)",
    )


def connection_from_args(args: argparse.Namespace) -> tuple[str, Credentials, Backoff]:
    """Base URL, credentials (from the environment) and retry policy; raises UsageError."""
    credentials = Credentials.from_env()
    return resolve_base_url(args.base_url), credentials, Backoff(max_attempts=args.max_attempts)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``bulkops export``."""
    parser.add_argument(
        "--service",
        dest="service_sids",
        action="append",
        default=[],
        metavar="MG…",
        help="a Messaging Service to export (repeat for more)",
    )
    parser.add_argument(
        "--services",
        dest="services_files",
        action="append",
        default=[],
        metavar="FILE",
        help="a file of service SIDs, one per line (# comments and blank lines ignored)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="the snapshot CSV to write (replaced atomically; an attach job)",
    )
    add_connection_arguments(parser)


def run_command(args: argparse.Namespace) -> int:
    """``bulkops export``: 0 when written; UsageError (2) for bad input; 3 when aborted."""
    services = gather_services(args.service_sids, args.services_files)
    check_output(args.output)
    base_url, credentials, backoff = connection_from_args(args)
    try:
        summary = asyncio.run(
            export(
                services,
                args.output,
                base_url=base_url,
                credentials=credentials,
                timeout_s=args.timeout,
                backoff=backoff,
            )
        )
    except RunAborted as exc:
        print(f"bulkops: export aborted, nothing written: {exc.reason}", file=sys.stderr)
        return Exit.ABORTED
    print(f"bulkops: {summary.line()}", file=sys.stderr)
    return Exit.OK


__all__ = [
    "COLUMNS",
    "ExportSummary",
    "PageApi",
    "ServiceLister",
    "ServiceNotFound",
    "add_arguments",
    "add_connection_arguments",
    "atomic_csv",
    "check_output",
    "connection_from_args",
    "export",
    "export_services",
    "gather_services",
    "read_services_file",
    "run_command",
]
