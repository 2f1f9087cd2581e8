"""The outcome table: what each Twilio answer means for a row, per operation."""

from __future__ import annotations

import pytest

from bulkops.engine.outcomes import SUCCESS, for_error
from bulkops.errors import (
    ApiError,
    PermanentError,
    ServerError,
    ThrottledError,
    TransportError,
)
from bulkops.model import Detail, Op, Outcome


@pytest.mark.parametrize(
    ("op", "detail"),
    [(Op.ATTACH, Detail.ATTACHED), (Op.DETACH, Detail.DETACHED), (Op.FETCH, Detail.FETCHED)],
)
def test_success_detail_per_op(op: Op, detail: Detail) -> None:
    """A 2xx answer succeeds with the op's own detail."""
    assert SUCCESS[op] is detail


def test_every_op_has_a_success_detail() -> None:
    """No operation is missing from the success table."""
    assert set(SUCCESS) == set(Op)


@pytest.mark.parametrize(
    ("op", "status", "code", "outcome", "detail"),
    [
        (Op.ATTACH, 409, 21710, Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED),
        (Op.ATTACH, 400, 21710, Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED),
        (Op.ATTACH, 409, 21712, Outcome.FAILED, Detail.ATTACHED_ELSEWHERE),
        (Op.ATTACH, 400, 21714, Outcome.FAILED, Detail.POOL_FULL),
        (Op.ATTACH, 400, 21421, Outcome.FAILED, Detail.REJECTED),
        (Op.ATTACH, 400, 80303, Outcome.FAILED, Detail.REJECTED),
        (Op.ATTACH, 404, 20404, Outcome.FAILED, Detail.REJECTED),
        (Op.ATTACH, 403, None, Outcome.FAILED, Detail.REJECTED),
        (Op.DETACH, 404, 20404, Outcome.SUCCEEDED, Detail.NOT_ATTACHED),
        (Op.DETACH, 404, None, Outcome.SUCCEEDED, Detail.NOT_ATTACHED),
        (Op.DETACH, 400, 21710, Outcome.FAILED, Detail.REJECTED),
        (Op.DETACH, 400, 21421, Outcome.FAILED, Detail.REJECTED),
        (Op.FETCH, 404, 20404, Outcome.FAILED, Detail.NOT_FOUND),
        (Op.FETCH, 404, None, Outcome.FAILED, Detail.NOT_FOUND),
        (Op.FETCH, 400, 21714, Outcome.FAILED, Detail.REJECTED),
    ],
)
def test_permanent_error_outcome(
    op: Op, status: int, code: int | None, outcome: Outcome, detail: Detail
) -> None:
    """Twilio codes and statuses with a meaning of their own map per op; other 4xx are rejected."""
    error = PermanentError(status, code, "Twilio says no")
    assert for_error(op, error) == (outcome, detail)


@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize(
    "error",
    [
        ThrottledError(429, 20429, "Too Many Requests", retry_after_s=1.0),
        ServerError(500, None, "Internal Server Error"),
        ServerError(503, None, "Service Unavailable"),
        TransportError("GET /v1/Services/MG/ShortCodes/SC: timed out"),
        ThrottledError(429, 21710, "a transient answer even with a meaningful code"),
    ],
    ids=["429", "500", "503", "transport", "429-with-21710"],
)
def test_transient_error_ends_as_retries_exhausted(op: Op, error: ApiError) -> None:
    """When the last attempt failed transiently the row failed with retries_exhausted."""
    assert for_error(op, error) == (Outcome.FAILED, Detail.RETRIES_EXHAUSTED)
