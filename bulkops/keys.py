"""Row keys as 64-bit digests, and a compact set of them.

Duplicate detection and ``--resume`` must remember one key per row of files of a
million rows and more. A Python ``set`` of ints costs about 85 bytes an entry;
:class:`DigestSet` keeps the digests in one ``array('Q')`` with open addressing,
at most half full: 8-16 bytes an entry, so a million rows cost 16 MB.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

_MASK_64 = (1 << 64) - 1


def key_digest(key: Iterable[str]) -> int:
    """A 64-bit digest of a row key (never 0, the empty slot).

    Python's own hash of the key's tuple: SipHash of each string, salted per
    process, so it costs a tenth of a cryptographic digest on the per-row path.
    Digests are compared within one process only (the duplicate check, the
    resume's skip set, the summary's rows) and never stored, so the salt is no
    obstacle; 64 bits keep collisions negligible at any job size.
    """
    return (hash(key if isinstance(key, tuple) else tuple(key)) & _MASK_64) or 1


class DigestSet:
    """A set of nonzero 64-bit digests: linear probing in a power-of-two table."""

    __slots__ = ("_len", "_mask", "_slots")

    def __init__(self, digests: Iterable[int] = ()) -> None:
        self._slots = array("Q", bytes(8 * 1024))
        self._mask = 1023
        self._len = 0
        for digest in digests:
            self.add(digest)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        return (digest for digest in self._slots if digest)

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, int) or digest == 0:
            return False
        slots, mask = self._slots, self._mask
        i = digest & mask
        while (found := slots[i]) != 0:
            if found == digest:
                return True
            i = (i + 1) & mask
        return False

    def add(self, digest: int) -> bool:
        """Add ``digest``; True if it was not there yet."""
        slots, mask = self._slots, self._mask
        i = digest & mask
        while (found := slots[i]) != 0:
            if found == digest:
                return False
            i = (i + 1) & mask
        slots[i] = digest
        self._len += 1
        if self._len * 2 > len(slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = 2 * len(old) - 1
        self._len = 0
        for digest in old:
            if digest:
                self.add(digest)


class DigestMap:
    """A map from nonzero 64-bit digests to small ints (< 65,536), as compact as DigestSet."""

    __slots__ = ("_keys", "_len", "_mask", "_values")

    def __init__(self) -> None:
        self._keys = array("Q", bytes(8 * 1024))
        self._values = array("H", bytes(2 * 1024))
        self._mask = 1023
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __setitem__(self, digest: int, value: int) -> None:
        keys, mask = self._keys, self._mask
        i = digest & mask
        while (found := keys[i]) != 0 and found != digest:
            i = (i + 1) & mask
        self._values[i] = value
        if found == 0:
            keys[i] = digest
            self._len += 1
            if self._len * 2 > len(keys):
                self._grow()

    def values(self) -> Iterator[int]:
        return (v for k, v in zip(self._keys, self._values, strict=True) if k)

    def _grow(self) -> None:
        keys, values = self._keys, self._values
        self._keys = array("Q", bytes(16 * len(keys)))
        self._values = array("H", bytes(4 * len(keys)))
        self._mask = 2 * len(keys) - 1
        self._len = 0
        for digest, value in zip(keys, values, strict=True):
            if digest:
                self[digest] = value
