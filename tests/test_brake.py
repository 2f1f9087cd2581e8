"""The failure brake."""

from __future__ import annotations

from bulkops.engine.brake import FailureBrake
from bulkops.model import Outcome

S, F, I = Outcome.SUCCEEDED, Outcome.FAILED, Outcome.INVALID  # noqa: E741 - I for invalid, beside S and F


def trips_at(brake: FailureBrake, outcomes: list[Outcome]) -> int | None:
    for n, outcome in enumerate(outcomes, start=1):
        if brake.observe(outcome) is not None:
            return n
    return None


def test_max_failures_trips_at_the_nth_failure() -> None:
    """--max-failures 3 trips on the third failed row, not before."""
    assert trips_at(FailureBrake(max_failures=3), [F, S, F, S, S, F, F]) == 6


def test_invalid_and_skipped_rows_never_count() -> None:
    """Rows that never reached the API count neither as failures nor in the window."""
    outcomes = [I] * 50 + [Outcome.SKIPPED] * 50
    assert (
        trips_at(FailureBrake(max_failures=1, max_failure_rate=0.0, window_rows=10), outcomes)
        is None
    )


def test_failure_rate_needs_a_full_window_then_trips() -> None:
    """The rate is judged over the last window_rows rows, once that many are seen."""
    brake = FailureBrake(max_failure_rate=0.5, window_rows=10)
    assert trips_at(brake, [F] * 9) is None
    assert brake.observe(F) is not None


def test_failure_rate_slides() -> None:
    """Old failures leave the window: a bad start followed by good rows does not trip."""
    brake = FailureBrake(max_failure_rate=0.5, window_rows=10)
    assert trips_at(brake, [F] * 5 + [S] * 5 + [S] * 20 + [F] * 5) is None
    assert brake.observe(F) is not None  # now 6 of the last 10
