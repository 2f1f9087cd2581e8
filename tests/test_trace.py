"""The trace of the limit over a run: sampled on change, spaced, bounded, closed at the end."""

from __future__ import annotations

import itertools

import pytest

from bulkops.engine.trace import COLUMNS, LimitTrace


def test_a_point_only_when_a_figure_moved_and_the_spacing_allows() -> None:
    """Unchanged figures add nothing; changes closer than the spacing wait for the next sample."""
    trace = LimitTrace(100.0, spacing_s=0.1)
    trace.sample(100.0, 16, None, 3)
    trace.sample(100.05, 16, None, 4)  # too soon
    trace.sample(100.2, 16, None, 4)
    trace.sample(100.4, 16, None, 4)  # nothing moved
    trace.rows += 5
    trace.throttled += 1
    trace.sample(100.5, 9, 10, 10)
    assert trace.points == [
        (0.0, 0, 0, 16, None, 3),
        (0.2, 0, 0, 16, None, 4),
        (0.5, 5, 1, 9, 10, 10),
    ]


def test_finish_always_adds_the_last_point() -> None:
    """The run's end is a point whatever the spacing."""
    trace = LimitTrace(0.0, spacing_s=10.0)
    trace.sample(0.0, 4, None, None)
    trace.rows = 7
    trace.finish(0.5, 4, None, None)
    assert trace.points[-1] == (0.5, 7, 0, 4, None, None)


@pytest.mark.parametrize("max_points", [10, 64, 1000])
def test_a_long_run_keeps_at_most_max_points_evenly_thinned(max_points: int) -> None:
    """An hour of changes every 10 ms stays within max_points, spread over the whole hour."""
    trace = LimitTrace(0.0, spacing_s=0.1, max_points=max_points)
    for step in range(360_000):
        trace.rows = step
        trace.sample(step * 0.01, 10, 10, step % 11)
    assert len(trace.points) < max_points
    times = [point[0] for point in trace.points]
    assert times == sorted(times)
    assert times[-1] > 3600 * 0.9
    assert max(b - a for a, b in itertools.pairwise(times)) < 3600 * 4 / max_points


def test_to_json_names_its_columns() -> None:
    """The summary JSON keeps columns and points as lists."""
    trace = LimitTrace(0.0)
    trace.sample(0.0, 2, None, 1)
    assert trace.to_json() == {"columns": list(COLUMNS), "points": [[0.0, 0, 0, 2, None, 1]]}


def test_max_points_below_two_is_refused() -> None:
    """A trace must hold at least its start and its end."""
    with pytest.raises(ValueError, match="max_points"):
        LimitTrace(0.0, max_points=1)
