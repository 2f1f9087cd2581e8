"""What each Twilio answer means for a row: the outcome table, in one place."""

from __future__ import annotations

from ..errors import ApiError, TransientError
from ..model import Detail, Op, Outcome
from ..twilio.codes import TwilioCode

SUCCESS: dict[Op, Detail] = {
    Op.ATTACH: Detail.ATTACHED,
    Op.DETACH: Detail.DETACHED,
    Op.FETCH: Detail.FETCHED,
    Op.MIGRATE: Detail.MIGRATED,
}

#: Twilio error codes with a meaning of their own, per operation.
_BY_CODE: dict[tuple[Op, int], tuple[Outcome, Detail]] = {
    (Op.ATTACH, TwilioCode.ALREADY_IN_SERVICE): (Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED),
    (Op.ATTACH, TwilioCode.IN_ANOTHER_SERVICE): (Outcome.FAILED, Detail.ATTACHED_ELSEWHERE),
    (Op.ATTACH, TwilioCode.POOL_FULL): (Outcome.FAILED, Detail.POOL_FULL),
}

#: HTTP statuses with a meaning of their own, per operation.
_BY_STATUS: dict[tuple[Op, int], tuple[Outcome, Detail]] = {
    (Op.DETACH, 404): (Outcome.SUCCEEDED, Detail.NOT_ATTACHED),
    (Op.FETCH, 404): (Outcome.FAILED, Detail.NOT_FOUND),
}

#: Fields of a fetched resource copied into its result record.
FETCHED_FIELDS = ("short_code", "country_code", "capabilities")


def for_error(op: Op, error: ApiError) -> tuple[Outcome, Detail]:
    """The outcome of a row whose last attempt ended with ``error``."""
    if isinstance(error, TransientError):
        return Outcome.FAILED, Detail.RETRIES_EXHAUSTED
    found = None
    if error.code is not None:
        found = _BY_CODE.get((op, error.code))
    if found is None and error.status is not None:
        found = _BY_STATUS.get((op, error.status))
    return found or (Outcome.FAILED, Detail.REJECTED)
