"""Learning the account's limit from the counts on Twilio's answers, without a controller."""

from __future__ import annotations

from bulkops.engine.account_limit import LimitLearner, RecentMost


def test_nothing_is_known_before_a_429() -> None:
    """Admitted answers alone say nothing of a limit."""
    learner = LimitLearner()
    learner.admitted(40)
    assert learner.limit is None
    assert learner.probe_due(1e9) is False


def test_a_429_at_an_admitted_count_is_the_limit_else_one_less() -> None:
    """Refused at 10 after 10 was admitted: 10. Refused at 10, at most 8 admitted: 9."""
    seen = LimitLearner()
    seen.admitted(10)
    assert seen.refused(10, 0.0) is True
    assert seen.limit == 10
    unseen = LimitLearner()
    unseen.admitted(8)
    unseen.refused(10, 0.0)
    assert unseen.limit == 9
    unseen.admitted(10)
    assert unseen.limit == 10


def test_only_a_429_below_what_is_known_teaches() -> None:
    """A 429 at or above the limit (others jumped past it) leaves it; a lower one lowers it."""
    learner = LimitLearner()
    learner.admitted(12)
    learner.refused(12, 0.0)
    assert learner.refused(16, 1.0) is False
    assert learner.refused(12, 2.0) is False
    assert learner.limit == 12
    learner.admitted(8)
    assert learner.refused(8, 3.0) is True
    assert learner.limit == 8


def test_the_limit_never_goes_below_the_floor() -> None:
    """A 429 at 0 (a rate limit, not concurrency) still leaves the floor."""
    learner = LimitLearner(floor=1)
    learner.refused(0, 0.0)
    assert learner.limit == 1


def test_probes_come_after_the_interval_and_retry_after_spaces_them() -> None:
    """10 s after a lesson a probe is due; after a Retry-After of 5 s, 50 s."""
    learner = LimitLearner(probe_interval_s=10.0)
    learner.admitted(10)
    learner.refused(10, 100.0)
    assert learner.probe_due(109.9) is False
    assert learner.probe_due(110.0) is True
    learner.probe(110.0)
    assert learner.limit == 11
    assert learner.probe_due(115.0) is False
    learner.retry_after(5.0)
    assert learner.probe_due(150.0) is False
    assert learner.probe_due(160.0) is True


def test_the_most_recent_count_rises_at_once_and_falls_only_after_its_round_trips() -> None:
    """A dip shorter than ``ticks`` round trips is ignored; a lasting fall is followed."""
    most = RecentMost(3)
    assert most.value is None
    most.see(5)
    most.tick()
    for sample in (1, 1):
        most.see(sample)
        most.tick()
        assert most.value == 5
    most.see(8)
    assert most.value == 8  # a rise counts at once, mid round trip
    most.tick()
    for _ in range(3):
        most.see(0)
        most.tick()
    assert most.value == 0
    most.see(-3)
    assert most.value == 0
