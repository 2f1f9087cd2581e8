"""The compact digest set behind duplicate detection and resume."""

from __future__ import annotations

import random

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


def test_digest_map_keeps_the_last_value_per_digest_through_growth() -> None:
    """Setting a digest again replaces its value; every digest keeps exactly one."""
    chance = random.Random(9)
    reference: dict[int, int] = {}
    table = DigestMap()
    keys = [chance.getrandbits(64) or 1 for _ in range(5000)]
    for _ in range(20_000):
        digest, value = chance.choice(keys), chance.randrange(65_536)
        table[digest] = value
        reference[digest] = value
    assert len(table) == len(reference)
    assert sorted(table.values()) == sorted(reference.values())
