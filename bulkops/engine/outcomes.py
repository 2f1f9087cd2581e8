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

#: What it means for a row that the sender is not in the service (a 404, or an
#: alpha sender its service's list does not have).
ABSENT: dict[Op, tuple[Outcome, Detail]] = {
    Op.DETACH: (Outcome.SUCCEEDED, Detail.NOT_ATTACHED),
    Op.FETCH: (Outcome.FAILED, Detail.NOT_FOUND),
}

#: HTTP statuses with a meaning of their own, per operation.
_BY_STATUS: dict[tuple[Op, int], tuple[Outcome, Detail]] = {
    (op, 404): verdict for op, verdict in ABSENT.items()
}

#: Fields of a fetched resource copied into its result record, after the kind's
#: number field (``short_code``, ``phone_number``, ``alpha_sender``).
FETCHED_FIELDS = ("country_code", "capabilities")


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
