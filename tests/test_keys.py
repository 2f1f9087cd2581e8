"""The digest set and map behind duplicate detection, resume and the tally: plain, then compact."""

from __future__ import annotations

import random

import pytest

from bulkops import keys
from bulkops.keys import DigestMap, DigestSet, key_digest


def test_digest_set_behaves_like_a_set_through_growth() -> None:
    """Adds, membership and length agree with a Python set over 50,000 random digests."""
    chance = random.Random(5)
    reference: set[int] = set()
    digests = DigestSet()
    for _ in range(50_000):
        digest = chance.getrandbits(64) or 1
        assert digests.add(digest) == (digest not in reference)
        reference.add(digest)
    assert len(digests) == len(reference)
    assert set(digests) == reference
    assert all(d in digests for d in list(reference)[:1000])
    assert sum(chance.getrandbits(64) in digests for _ in range(1000)) == 0


def test_digests_colliding_in_the_table_are_kept_apart() -> None:
    """Digests with the same low bits (same first slot) are all stored and found."""
    digests = DigestSet()
    same_slot = [(n << 32) | 7 for n in range(1, 200)]
    assert all(digests.add(d) for d in same_slot)
    assert not any(digests.add(d) for d in same_slot)
    assert all(d in digests for d in same_slot)
    assert (1 << 32) | 8 not in digests


def test_key_digest_is_stable_and_never_zero() -> None:
    """The same key always gives the same nonzero digest; another key another one."""
    key = ("attach", "MG1", "SC1", "")
    assert key_digest(key) == key_digest(list(key)) != 0
    assert key_digest(key) != key_digest(("detach", "MG1", "SC1", ""))
    assert 0 not in DigestSet([1, 2])


@pytest.mark.parametrize("compact_from", [1, 8, 1000])
def test_digest_set_moves_into_its_table_without_losing_or_repeating_a_digest(
    monkeypatch: pytest.MonkeyPatch, compact_from: int
) -> None:
    """Before, at and after the move out of the plain set, it agrees with a Python set."""
    monkeypatch.setattr(keys, "COMPACT_FROM", compact_from)
    chance = random.Random(compact_from)
    reference: set[int] = set()
    digests = DigestSet()
    pool = [(n << 32) | 7 for n in range(1, 60)] + [
        chance.getrandbits(64) or 1 for _ in range(3000)
    ]
    for digest in pool + pool[::7]:
        assert digests.add(digest) == (digest not in reference)
        reference.add(digest)
        assert len(digests) == len(reference)
    assert set(digests) == reference
    assert all(d in digests for d in reference)
    assert not any(d in digests for d in (2, (99 << 32) | 7, chance.getrandbits(64)))


@pytest.mark.parametrize("compact_from", [1, 8, 1000, keys.COMPACT_FROM])
def test_digest_map_moves_into_its_table_keeping_each_last_value(
    monkeypatch: pytest.MonkeyPatch, compact_from: int
) -> None:
    """Values set before the move are kept after it, and set again they are replaced.

    At the real threshold the 2,500 digests never leave the dict; at 1 the table grows.
    """
    monkeypatch.setattr(keys, "COMPACT_FROM", compact_from)
    chance = random.Random(compact_from)
    reference: dict[int, int] = {}
    table = DigestMap()
    pool = [chance.getrandbits(64) or 1 for _ in range(2500)]
    for _ in range(6000):
        digest, value = chance.choice(pool), chance.randrange(65_536)
        table[digest] = value
        reference[digest] = value
        assert len(table) == len(reference)
    assert sorted(table.values()) == sorted(reference.values())


@pytest.mark.parametrize("compact_from", [1, 1000])
def test_digest_map_refuses_a_value_its_table_cannot_hold(
    monkeypatch: pytest.MonkeyPatch, compact_from: int
) -> None:
    """65,536 does not fit an entry of the table: refused before or after the move alike."""
    monkeypatch.setattr(keys, "COMPACT_FROM", compact_from)
    table = DigestMap()
    table[5] = 1
    with pytest.raises(OverflowError):
        table[6] = 65_536
