"""``bulkops export``: every sender of some services, as a CSV that is itself an attach job.

Each service is listed once per sender kind (short codes, phone numbers, alpha
senders) by following ``next_page_url`` (``PageSize`` 1000), with transient
failures (429, 5xx, network) retried by :class:`~bulkops.retry.Backoff`.
Rows are streamed into a temporary file next to the target, which replaces it
(``os.replace``) only once every service has been listed: a failed export never
leaves half a snapshot, and an old snapshot at that path survives it.

The file's columns are ``service_sid,sender,kind,op,number,country_code`` with
``op`` = ``attach``: ``sender`` is the SID of a short code or phone number and
the text of an alpha sender, ``number`` what people read (E.164, the short
code's digits, the alpha text). The job reader ignores the last two, so
``bulkops run snapshot.csv`` puts the senders back where they were.

Exit codes: 0 written; 2 bad flags, a bad ``--services`` file or a service the
account does not have (HTTP 404); 3 the API refused the credentials or kept
failing past ``--max-attempts`` (nothing written).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Exit, JobFileError, RunAborted, UsageError
from ..files import atomic_write
from ..model import SERVICE_SID, Op, SenderKind
from ..twilio import Resource, ServiceLister
from .connection import Connection, add_connection_arguments, connection_from_args

#: The snapshot's header: a job's four columns, then what a person wants to read.
COLUMNS = ("service_sid", "sender", "kind", "op", "number", "country_code")


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote: counts of services, senders (rows) and pages, and where."""

    services: int
    senders: int
    #: List calls that succeeded (one per page).
    pages: int
    path: Path
    #: Senders written, by kind (every kind present).
    by_kind: Mapping[SenderKind, int] = field(default_factory=dict)

    def line(self) -> str:
        """One line a person can read."""
        kinds = ", ".join(f"{n:,} {kind.spec.label}s" for kind, n in self.by_kind.items() if n)
        return (
            f"exported {self.senders:,} senders{f' ({kinds})' if kinds else ''} "
            f"of {self.services:,} services to {self.path} ({self.pages:,} list calls)"
        )


def read_services_file(path: str | Path) -> list[str]:
    """The service SIDs of a text file: one per line; blank lines and ``#`` comments ignored.

    Raises :class:`JobFileError` (exit 2, like a bad job file) naming the file, and
    the line for a line that is not a Messaging Service SID.
    """
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            lines = list(handle)
    except OSError as exc:
        raise JobFileError.unreadable(name, exc, what="list of services") from None
    except UnicodeDecodeError:
        raise JobFileError(name, "not UTF-8 text") from None
    sids = []
    for number, text in enumerate(lines, start=1):
        sid = text.split("#", 1)[0].strip()
        if not sid:
            continue
        if not SERVICE_SID.fullmatch(sid):
            problem = f"{sid!r} is not a Messaging Service SID (MG + 32 hex digits)"
            raise JobFileError(name, problem, line=number)
        sids.append(sid)
    return sids


def gather_services(sids: Iterable[str], files: Iterable[str | Path] = ()) -> list[str]:
    """``--service`` values then each ``--services`` file's, validated, first occurrence kept.

    Raises :class:`UsageError` for a ``--service`` that is not an MG SID or no
    service at all, and :func:`read_services_file`'s errors.
    """
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
    """List every service and write the snapshot atomically; nothing is written on failure.

    Raises :func:`check_output`'s UsageError, and the lister's:
    :class:`~bulkops.twilio.ServiceNotFound` (a UsageError) for a 404,
    :class:`RunAborted` for any other failure. The blocking writes inside the
    event loop are deliberate: a page at a time, to a local file, with nothing
    else running that they could hold up.
    """
    target = check_output(path)
    by_kind = dict.fromkeys(SenderKind, 0)
    with atomic_write(target, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for service_sid in service_sids:
            for kind in SenderKind:
                seen: set[str] = set()  # a page boundary that shifts must not repeat a row
                async with aclosing(lister.pages_of(service_sid, kind)) as pages:
                    async for page in pages:
                        for item in page:
                            sender = str(item.get(kind.spec.identity_field) or "")
                            if sender not in seen:
                                seen.add(sender)
                                writer.writerow(_row(service_sid, sender, kind, item))
                by_kind[kind] += len(seen)
    return ExportSummary(
        services=len(service_sids),
        senders=sum(by_kind.values()),
        pages=lister.pages,
        path=target,
        by_kind=by_kind,
    )


def _row(service_sid: str, sender: str, kind: SenderKind, item: Resource) -> tuple[str, ...]:
    return (
        service_sid,
        sender,
        kind.value,
        Op.ATTACH.value,
        str(item.get(kind.number_field) or ""),
        str(item.get("country_code") or ""),
    )


async def export(
    service_sids: Sequence[str], path: str | Path, *, connection: Connection
) -> ExportSummary:
    """List each service in turn through ``connection``; write the snapshot to ``path``.

    Raises as :func:`export_services` does.
    """
    async with connection.listers() as listers:
        return await export_services(listers.services, service_sids, path)


# -- the command line -----------------------------------------------------------------


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
    """``bulkops export``: 0 when written, 3 when aborted (nothing written).

    Bad flags, credentials or services files raise :class:`UsageError` or
    :class:`JobFileError`, which the CLI turns into exit 2.
    """
    services = gather_services(args.service_sids, args.services_files)
    check_output(args.output)
    connection = connection_from_args(args)
    try:
        summary = asyncio.run(export(services, args.output, connection=connection))
    except RunAborted as exc:
        print(f"bulkops: export aborted, nothing written: {exc.reason}", file=sys.stderr)
        return Exit.ABORTED
    print(f"bulkops: {summary.line()}", file=sys.stderr)
    return Exit.OK


__all__ = [
    "COLUMNS",
    "ExportSummary",
    "add_arguments",
    "check_output",
    "export",
    "export_services",
    "gather_services",
    "read_services_file",
    "run_command",
]
