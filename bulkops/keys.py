"""Row keys as 64-bit digests, and compact sets and maps of them.

Duplicate detection and ``--resume`` must remember one key per row of files of a
million rows and more. A Python ``set`` of ints costs about 85 bytes an entry;
:class:`DigestSet` keeps the digests in one ``array('Q')`` with open addressing,
at most half full: 8-16 bytes an entry, so a million rows cost 16 MB. Probing
that table in Python costs a few microseconds a row, though, where a ``set``
costs a tenth of that: so both start as a plain ``set`` (``dict``) and move into
the table once they hold :data:`COMPACT_FROM` entries (about 1.4 MB by then).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

_MASK_64 = (1 << 64) - 1
#: Entries a :class:`DigestSet` or :class:`DigestMap` holds in a plain set or dict
#: before it moves them into its compact table. ``python -m benchmarks.own_cpu
#: --rows 10000`` measured 2.4–3.7 µs a row less with the plain set and dict
#: (two alternating pairs of seven runs; about 45 against 48 µs in all).
COMPACT_FROM = 16_384
_FIRST_SIZE = 1024


def key_digest(key: Iterable[str]) -> int:
    """A 64-bit digest of a row key (never 0, the empty slot).

    Python's own hash of the key's tuple: SipHash of each string, salted per
    process, so it costs a tenth of a cryptographic digest on the per-row path.
    Digests are compared within one process only (the duplicate check, the
    resume's skip set, the summary's rows) and never stored, so the salt is no
    obstacle; 64 bits keep collisions negligible at any job size.
    """
    return (hash(key if isinstance(key, tuple) else tuple(key)) & _MASK_64) or 1


def _table_size(entries: int) -> int:
    """The power of two, at least 1,024, that keeps ``entries`` at most half the slots."""
    size = _FIRST_SIZE
    while entries * 2 > size:
        size *= 2
    return size


class DigestSet:
    """A set of nonzero 64-bit digests: a ``set``, then linear probing in a power-of-two table."""

    __slots__ = ("_len", "_mask", "_slots", "_small")

    def __init__(self, digests: Iterable[int] = ()) -> None:
        #: The digests while fewer than COMPACT_FROM; None once in ``_slots``.
        self._small: set[int] | None = set()
        self._slots = array("Q")
        self._mask = 0
        self._len = 0
        for digest in digests:
            self.add(digest)

    def __len__(self) -> int:
        small = self._small
        return self._len if small is None else len(small)

    def __iter__(self) -> Iterator[int]:
        small = self._small
        if small is not None:
            return iter(small)
        return (digest for digest in self._slots if digest)

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, int) or digest == 0:
            return False
        small = self._small
        if small is not None:
            return digest in small
        slots, mask = self._slots, self._mask
        i = digest & mask
        while (found := slots[i]) != 0:
            if found == digest:
                return True
            i = (i + 1) & mask
        return False

    def add(self, digest: int) -> bool:
        """Add ``digest``; True if it was not there yet."""
        small = self._small
        if small is None:
            return self._insert(digest)
        if digest in small:
            return False
        small.add(digest)
        if len(small) >= COMPACT_FROM:
            self._compact(small)
        return True

    def _insert(self, digest: int) -> bool:
        slots, mask = self._slots, self._mask
        i = digest & mask
        while (found := slots[i]) != 0:
            if found == digest:
                return False
            i = (i + 1) & mask
        slots[i] = digest
        self._len += 1
        if self._len * 2 > len(slots):
            # read straight from the old table: a list of a million digests is 40 MB
            self._rebuild((digest for digest in slots if digest), 2 * len(slots))
        return True

    def _compact(self, small: set[int]) -> None:
        self._small = None
        self._rebuild(small, _table_size(len(small)))

    def _rebuild(self, digests: Iterable[int], size: int) -> None:
        """A fresh table of ``size`` slots holding ``digests`` (read once, as it fills)."""
        self._slots = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._len = 0
        for digest in digests:
            self._insert(digest)


class DigestMap:
    """A map from nonzero 64-bit digests to small ints (< 65,536): a ``dict``, then a table
    as compact as :class:`DigestSet`'s."""

    __slots__ = ("_keys", "_len", "_mask", "_small", "_values")

    def __init__(self) -> None:
        #: The entries while fewer than COMPACT_FROM; None once in the arrays.
        self._small: dict[int, int] | None = {}
        self._keys = array("Q")
        self._values = array("H")
        self._mask = 0
        self._len = 0

    def __len__(self) -> int:
        small = self._small
        return self._len if small is None else len(small)

    def __setitem__(self, digest: int, value: int) -> None:
        small = self._small
        if small is None:
            self._put(digest, value)
            return
        if not 0 <= value < 65_536:
            raise OverflowError(f"a DigestMap value must be in [0, 65536), got {value}")
        small[digest] = value
        if len(small) >= COMPACT_FROM:
            self._small = None
            self._rebuild(small.items(), _table_size(len(small)))

    def values(self) -> Iterator[int]:
        small = self._small
        if small is not None:
            return iter(small.values())
        return (v for k, v in zip(self._keys, self._values, strict=True) if k)

    def _put(self, digest: int, value: int) -> None:
        keys, mask = self._keys, self._mask
        i = digest & mask
        while (found := keys[i]) != 0 and found != digest:
            i = (i + 1) & mask
        self._values[i] = value
        if found == 0:
            keys[i] = digest
            self._len += 1
            if self._len * 2 > len(keys):
                # read straight from the old arrays, as DigestSet does
                values = self._values
                entries = ((k, v) for k, v in zip(keys, values, strict=True) if k)
                self._rebuild(entries, 2 * len(keys))

    def _rebuild(self, entries: Iterable[tuple[int, int]], size: int) -> None:
        """Fresh arrays of ``size`` slots holding ``entries`` (read once, as they fill)."""
        self._keys = array("Q", bytes(8 * size))
        self._values = array("H", bytes(2 * size))
        self._mask = size - 1
        self._len = 0
        for digest, value in entries:
            self._put(digest, value)
