"""The retry policy: full-jitter backoff, the Retry-After floor and the cap."""

from __future__ import annotations

import pytest

from bulkops.errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    ServerError,
    ThrottledError,
    TransportError,
)
from bulkops.retry import Backoff, capped_doubling

BACKOFF = Backoff(initial_s=0.5, cap_s=30.0, max_attempts=4)
ALMOST_ONE = 1.0 - 1e-9


@pytest.mark.parametrize("attempt", [1, 2, 5, 20])
def test_delay_is_zero_when_rand_is_zero(attempt: int) -> None:
    """Full jitter: the smallest draw waits nothing."""
    assert BACKOFF.delay_s(attempt, rand=0.0) == 0.0


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (30, 30.0)],
)
def test_delay_approaches_the_exponential_ceiling_capped(attempt: int, ceiling: float) -> None:
    """As rand nears 1 the wait nears min(cap, initial * 2**(attempt-1)) from below."""
    delay = BACKOFF.delay_s(attempt, rand=ALMOST_ONE)
    assert delay == pytest.approx(ceiling)
    assert delay < ceiling


@pytest.mark.parametrize("attempt", [1024, 1025, 10_000, 10**100])
def test_any_attempt_number_gives_a_capped_wait(attempt: int) -> None:
    """Past 1024 attempts, where 2.0 ** (attempt - 1) would overflow, the ceiling is the cap."""
    assert BACKOFF.delay_s(attempt, rand=0.5) == pytest.approx(15.0)
    assert BACKOFF.delay_s(attempt, rand=ALMOST_ONE, retry_after_s=1.0) < 30.0


def test_a_tiny_initial_wait_still_grows_to_the_cap() -> None:
    """The doubling limit leaves room for the smallest initial waits to reach the cap."""
    backoff = Backoff(initial_s=1e-300, cap_s=30.0)
    assert backoff.delay_s(10**6, rand=0.5) == pytest.approx(15.0)


@pytest.mark.parametrize(
    ("doublings", "expected"),
    [(0, 0.5), (1, 1.0), (5, 16.0), (6, 30.0), (1023, 30.0), (1024, 30.0), (10**100, 30.0)],
)
def test_capped_doubling_doubles_up_to_the_cap_for_any_count(
    doublings: int, expected: float
) -> None:
    """0.5 doubled n times, capped at 30, for every n: none overflows."""
    assert capped_doubling(0.5, doublings, 30.0) == expected


@pytest.mark.parametrize(("attempt", "rand", "expected"), [(1, 0.5, 0.25), (4, 0.25, 1.0)])
def test_delay_scales_linearly_with_rand(attempt: int, rand: float, expected: float) -> None:
    """The wait is uniform over [0, ceiling): rand times the ceiling."""
    assert BACKOFF.delay_s(attempt, rand=rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attempt", "rand", "retry_after_s", "expected"),
    [
        (1, 0.0, 3.0, 3.0),
        (1, ALMOST_ONE, 3.0, 3.0),
        (6, 0.5, 3.0, 8.0),
        (1, 0.0, 0.0, 0.0),
        (1, 0.5, -5.0, 0.25),
        (1, 0.0, 120.0, 30.0),
        (1, 0.0, float("inf"), 30.0),
        (30, ALMOST_ONE, 120.0, 30.0),
    ],
    ids=[
        "floor-over-zero-jitter",
        "floor-over-small-jitter",
        "larger-jitter-wins",
        "zero-retry-after",
        "negative-retry-after-ignored",
        "clamped-to-cap",
        "infinite-clamped-to-cap",
        "never-above-cap",
    ],
)
def test_retry_after_is_a_floor_clamped_to_the_cap(
    attempt: int, rand: float, retry_after_s: float, expected: float
) -> None:
    """Retry-After raises the wait to at least its value, but never above the cap."""
    assert BACKOFF.delay_s(attempt, rand=rand, retry_after_s=retry_after_s) == pytest.approx(
        expected
    )


TRANSIENT = [
    ThrottledError(429, 20429, "Too Many Requests"),
    ServerError(503, None, "Service Unavailable"),
    TransportError("POST /v1/Services/MG/ShortCodes: timed out"),
]
FINAL = [
    PermanentError(409, 21710, "already in the service"),
    PermanentError(404, 20404, "not found"),
    AuthenticationError(401, 20003, "Authenticate"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(("attempt", "retry"), [(1, True), (3, True), (4, False), (9, False)])
def test_transient_errors_are_retried_until_max_attempts(
    error: ApiError, attempt: int, retry: bool
) -> None:
    """429, 5xx and transport errors get another try while attempt < max_attempts."""
    assert BACKOFF.should_retry(attempt, error) is retry


@pytest.mark.parametrize("error", FINAL, ids=lambda e: f"{type(e).__name__}-{e.status}")
def test_permanent_errors_are_never_retried(error: ApiError) -> None:
    """Permanent and authentication errors end the row on the first attempt."""
    assert BACKOFF.should_retry(1, error) is False


def test_max_attempts_one_means_no_retry() -> None:
    """With max_attempts=1 even a transient error is final."""
    assert Backoff(max_attempts=1).should_retry(1, TRANSIENT[0]) is False
