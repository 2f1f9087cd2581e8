"""How the engine builds a row's record: each field from where it belongs.

:class:`~bulkops.engine.records.RecordMaker` passes ItemResult's fields by
position (for speed), so every field is checked here by name, from a row and
calls whose values are all different.
"""

from __future__ import annotations

from support import mg, sc

from bulkops.engine.records import CallReport, RecordMaker
from bulkops.errors import PermanentError
from bulkops.model import Detail, ItemResult, Op, Outcome, Row, SenderKind
from bulkops.twilio.wire import Reply

ROW = Row(7, Op.MIGRATE, mg(1), "+14155550100", SenderKind.PHONE_NUMBER, mg(2), "PN" + "a" * 32)


def maker(now_s: float) -> RecordMaker:
    """Records made at ``now_s`` on the monotonic clock, stamped ``2026-11-30T00:00:00.123Z``."""
    return RecordMaker(lambda: now_s, lambda: "2026-11-30T00:00:00.123Z")


def test_a_failed_rows_record_takes_each_field_from_its_source() -> None:
    """Row fields from the row, the answer's from the last call, sums over the calls."""
    first = CallReport(Reply(204, None), None, attempts=2, throttled=1, started=10.0)
    error = PermanentError(409, 21710, "already in another service")
    last = CallReport(None, error, attempts=3, throttled=2, started=10.5)
    verdict = (Outcome.FAILED, Detail.ATTACHED_ELSEWHERE)
    result = maker(10.25).sent(ROW, verdict, [first, last], extra={"steps": ["a", "b"]})
    assert result == ItemResult(
        line=7,
        op="migrate",
        service_sid=mg(1),
        sender_sid="PN" + "a" * 32,
        outcome=Outcome.FAILED,
        detail=Detail.ATTACHED_ELSEWHERE,
        kind=SenderKind.PHONE_NUMBER,
        sender="+14155550100",
        http_status=409,
        twilio_code=21710,
        message="already in another service",
        attempts=5,
        elapsed_ms=250.0,
        finished_at="2026-11-30T00:00:00.123Z",
        throttled=3,
        from_service_sid=mg(2),
        resource={"steps": ["a", "b"]},
    )


def test_a_succeeded_rows_record_has_its_status_and_no_code_or_message() -> None:
    """A 201: its status, no code, no message, the one call's attempts and 429s."""
    done = CallReport(Reply(201, None), None, attempts=4, throttled=3, started=1.0)
    row = Row(2, Op.ATTACH, mg(3), sc(9))
    result = maker(1.5).sent(row, (Outcome.SUCCEEDED, Detail.ATTACHED), [done])
    assert (result.line, result.op, result.service_sid, result.sender_sid, result.sender) == (
        2, "attach", mg(3), sc(9), sc(9),
    )  # fmt: skip
    assert (result.http_status, result.twilio_code, result.message) == (201, None, None)
    assert (result.attempts, result.throttled, result.elapsed_ms) == (4, 3, 500.0)
    assert (result.from_service_sid, result.resource, result.settled) == (None, {}, False)
