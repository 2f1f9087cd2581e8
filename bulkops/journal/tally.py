"""The figures of a result log, gathered record by record: one :class:`Tally` for both feeders.

:func:`~bulkops.journal.summary.summarize` feeds it the records it reads back
(:meth:`Tally.add_record`); a fresh run's :class:`~bulkops.journal.ResultJournal`
feeds it each result as it writes it (:meth:`Tally.add_result`), so the report a
run ends with costs no second pass over the log (reading a million records back
took as long per row as a tenth of the run). The rules (latest record per row,
duplicates by their own line, latency only for rows that reached the network)
are in :meth:`Tally.add`, once.

Memory stays bounded-ish for a million records: one 64-bit key digest per row
and one float per record (``array('d')``, 8 MB per million).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ..keys import DigestMap, key_digest
from ..model import Detail, ItemResult, Outcome, SenderKind
from .reader import record_key

#: Outcomes whose rows never reach the network: no latency.
UNSENT = frozenset({Outcome.INVALID.value, Outcome.SKIPPED.value})
_SKIPPED = Outcome.SKIPPED.value
#: The kind of a record that names none: logs written before issue 10 hold short codes only.
_OLD_KIND = SenderKind.SHORT_CODE.value
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Tally:
    """Counts, the latest (outcome, detail, kind) per row, latencies and the time span so far."""

    def __init__(self) -> None:
        #: (outcome, detail, kind) triples in first-seen order, each by its index.
        self.pairs: dict[tuple[str, str, str], int] = {}
        #: Row key digest → index into :attr:`pairs` of its latest record; 10 bytes a row.
        self.latest = DigestMap()
        #: Records by attempts made.
        self.attempts: Counter[int] = Counter()
        #: ``elapsed_ms`` of every record that reached the network.
        self.latencies = array("d")
        self.records = self.calls = self.throttled = 0
        #: Earliest row start and latest row end, seconds since the epoch (±inf: none).
        self.first_start, self.last_end = math.inf, -math.inf
        self._second = ""  # the whole second of the last timestamp read, and its epoch
        self._second_s = 0.0

    def add(  # noqa: PLR0913 - one argument per figure of a record
        self,
        pair: tuple[str, str, str],
        digest: int,
        attempts: int,
        throttled: int,
        elapsed_ms: float,
        finished_at: str,
    ) -> None:
        """Count one record: ``pair`` is its (outcome, detail, kind), ``digest`` its row's key."""
        self.records += 1
        index = self.pairs.setdefault(pair, len(self.pairs))
        self.latest[digest] = index
        self.attempts[attempts] += 1
        self.calls += attempts
        self.throttled += throttled
        if pair[0] not in UNSENT:
            self.latencies.append(elapsed_ms)
        end = self._epoch_s(finished_at)
        if end is not None:
            start = end - elapsed_ms / 1000
            if start < self.first_start:
                self.first_start = start
            if end > self.last_end:
                self.last_end = end

    def add_record(self, record: dict[str, Any]) -> None:
        """Count one record as read back from a log (missing or odd fields count as 0)."""
        outcome = str(record.get("outcome") or "")
        detail = str(record.get("detail") or "")
        kind = str(record.get("kind") or _OLD_KIND)
        if outcome == _SKIPPED:  # a duplicate shares its key with the row it repeats
            digest = key_digest((Detail.DUPLICATE.value, str(record.get("line"))))
        else:
            digest = key_digest(record_key(record))
        finished_at = record.get("finished_at")
        self.add(
            (outcome, detail, kind),
            digest,
            _int(record.get("attempts")),
            _int(record.get("throttled")),
            _float(record.get("elapsed_ms")),
            finished_at if isinstance(finished_at, str) else "",
        )

    def add_result(self, result: ItemResult) -> None:
        """Count one result as the journal writes it: as :meth:`add_record` counts its record."""
        outcome = result.outcome._value_  # not .value (a property): every record
        if outcome == _SKIPPED:
            digest = key_digest((Detail.DUPLICATE.value, str(result.line)))
        else:
            digest = key_digest(result_key(result))
        self.add(
            (outcome, result.detail._value_, result.kind_name),
            digest,
            result.attempts,
            result.throttled,
            float(result.elapsed_ms),
            result.finished_at,
        )

    def _epoch_s(self, value: str) -> float | None:
        """Seconds since the epoch of an ISO 8601 time; None for "" or a bad value.

        Records written in one second share their first 19 characters, so the
        common ``2026-11-23T12:49:17.735Z`` shape is parsed once per second.
        """
        if not value:
            return None
        if len(value) == 24 and value[19] == "." and value[23] == "Z" and value[20:23].isdigit():
            if value[:19] != self._second:
                whole = _parse_iso(value[:19])
                if whole is None:
                    return None
                self._second, self._second_s = value[:19], whole
            return self._second_s + int(value[20:23]) / 1000
        return _parse_iso(value)


def result_key(result: ItemResult) -> tuple[str, str, str, str, str]:
    """:func:`~.reader.record_key` of ``result``'s record, without building the record."""
    sid = result.sender_sid
    written = result.sender or sid
    kind = result.kind
    sender = written if kind is None else kind.spec.identity(written, sid)
    return (
        result.op,
        result.service_sid,
        result.kind_name,
        sender,
        result.from_service_sid or "",
    )


def _parse_iso(value: str) -> float | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH).total_seconds()


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
