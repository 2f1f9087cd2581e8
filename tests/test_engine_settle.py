"""The engine on real answers only: services that do not exist, full pools, a network gone,
writes that may have landed. A scripted fake API, on a loop whose clock jumps."""

from __future__ import annotations

import aiohttp
import pytest
from support import mg, sc
from test_engine import FakeApi, run_engine

from bulkops.engine.settle import MAX_REPAIRS
from bulkops.errors import NetworkCause, PermanentError, RunAborted, TransportError
from bulkops.model import Detail, Op, Outcome, Row
from bulkops.twilio.network import transport_error
from bulkops.twilio.wire import Reply


def timed_out() -> TransportError:
    """A write that was sent and got no answer: it may land later."""
    return TransportError("POST …: timed out", cause=NetworkCause.TIMED_OUT, maybe_applied=True)


NOT_FOUND = PermanentError(404, 20404, "not found")


@pytest.mark.parametrize("op", [Op.DETACH, Op.FETCH])
def test_a_404_from_a_service_that_does_not_exist_is_service_not_found(op: Op) -> None:
    """The service is read once per run, however many rows name it."""
    rows = [Row(2 + i, op, mg(7), sc(i)) for i in range(5)]
    scripts = {(op.value, mg(7), sc(i)): [NOT_FOUND] for i in range(5)}
    journal, api, _ = run_engine(rows, FakeApi(scripts, missing=frozenset({mg(7)})))
    assert {(r.outcome, r.detail) for r in journal.results} == {
        (Outcome.FAILED, Detail.SERVICE_NOT_FOUND)
    }
    assert api.service_reads == [mg(7)]


def test_a_404_from_a_service_that_exists_keeps_its_meaning() -> None:
    """A detach 404 in a service that exists is not_attached, as before."""
    scripts = {("detach", mg(1), sc(0)): [NOT_FOUND]}
    journal, api, _ = run_engine([Row(2, Op.DETACH, mg(1), sc(0))], FakeApi(scripts))
    assert (journal.results[0].outcome, journal.results[0].detail) == (
        Outcome.SUCCEEDED,
        Detail.NOT_ATTACHED,
    )
    assert api.service_reads == [mg(1)]


def test_after_a_21714_attaches_to_that_service_are_not_sent_until_a_detach() -> None:
    """Pool full once: the next attaches fail without a call; a detach there clears it."""
    full = PermanentError(412, 21714, "pool full")
    rows = [
        Row(2, Op.ATTACH, mg(1), sc(1)),
        Row(3, Op.ATTACH, mg(1), sc(2)),
        Row(4, Op.ATTACH, mg(2), sc(3)),
        Row(5, Op.DETACH, mg(1), sc(9)),
        Row(6, Op.ATTACH, mg(1), sc(4)),
    ]
    journal, api, _ = run_engine(rows, FakeApi({("attach", mg(1), sc(1)): [full]}), concurrency=1)
    by_line = journal.by_line()
    assert (by_line[3].detail, by_line[3].attempts, by_line[3].twilio_code) == (
        Detail.POOL_FULL,
        0,
        21714,
    )
    assert ("attach", mg(1), sc(2)) not in api.calls
    assert by_line[4].detail is Detail.ATTACHED  # another service is not affected
    assert by_line[6].detail is Detail.ATTACHED  # the detach made room again


@pytest.mark.parametrize(
    "failure",
    [
        TransportError("POST …: connection refused", cause=NetworkCause.CONNECTION_REFUSED),
        # As the client maps aiohttp's: a connection that never completed was never sent.
        transport_error(aiohttp.ConnectionTimeoutError("to host"), target="POST …", write=True),
    ],
    ids=["refused", "connect-timed-out"],
)
def test_a_network_that_is_gone_stops_the_run_instead_of_spending_every_attempt(
    failure: TransportError,
) -> None:
    """Every call failing to connect for OUTAGE_S: the run stops, rows in flight unrecorded
    (resumable)."""
    rows = [Row(2 + i, Op.ATTACH, mg(1), sc(i)) for i in range(40)]
    scripts = {("attach", mg(1), sc(i)): [failure] * 100 for i in range(40)}
    with pytest.raises(RunAborted, match="the network is gone"):
        run_engine(rows, FakeApi(scripts), concurrency=4, max_attempts=100, backoff_cap_s=2.0)


def test_a_failed_row_whose_write_landed_is_recorded_succeeded_once_read_back() -> None:
    """Every attempt timed out, but the sender reads back attached: succeeded, settled."""
    scripts = {
        ("attach", mg(1), sc(1)): [timed_out(), timed_out()],
        ("fetch", mg(1), sc(1)): [Reply(200, {"sid": sc(1)})],
    }
    waits: list[float] = []
    journal, _, _ = run_engine(
        [Row(2, Op.ATTACH, mg(1), sc(1))], FakeApi(scripts), max_attempts=2, settle_s=7.0,
        waits=waits,
    )  # fmt: skip
    (record,) = journal.results
    assert (record.outcome, record.detail, record.settled) == (
        Outcome.SUCCEEDED,
        Detail.ATTACHED,
        True,
    )
    assert record.attempts == 3  # two attaches and the read-back
    assert any(w > 6.0 for w in waits)  # it waited out the settle period first


def test_the_last_row_is_applied_again_when_the_read_back_finds_it_not_done() -> None:
    """Timed out, read back not attached: the attach is made again and that outcome recorded."""
    scripts = {
        ("attach", mg(1), sc(1)): [timed_out(), timed_out()],
        ("fetch", mg(1), sc(1)): [NOT_FOUND],
    }
    journal, api, _ = run_engine(
        [Row(2, Op.ATTACH, mg(1), sc(1))], FakeApi(scripts), max_attempts=2, settle_s=5.0
    )
    (record,) = journal.results
    assert (record.outcome, record.detail, record.settled) == (
        Outcome.SUCCEEDED,
        Detail.ATTACHED,
        True,
    )
    assert api.calls.count(("attach", mg(1), sc(1))) == 3
    assert "applied again" in (record.message or "")


def test_a_later_row_on_the_sender_waits_for_the_settle_period() -> None:
    """The detach after a timed-out attach starts only after the attach's read-back."""
    scripts = {
        ("attach", mg(1), sc(1)): [timed_out()],
        ("fetch", mg(1), sc(1)): [Reply(200, {"sid": sc(1)}), NOT_FOUND],
    }
    rows = [Row(2, Op.ATTACH, mg(1), sc(1)), Row(3, Op.DETACH, mg(1), sc(1))]
    journal, api, _ = run_engine(rows, FakeApi(scripts), max_attempts=1, settle_s=5.0)
    assert api.calls == [
        ("attach", mg(1), sc(1)),
        ("fetch", mg(1), sc(1)),
        ("detach", mg(1), sc(1)),
        ("fetch", mg(1), sc(1)),  # the end-of-run check: the detach holds
    ]
    assert api.starts[2] - api.starts[0] >= 5.0
    assert [(r.line, r.outcome, r.settled) for r in journal.results] == [
        (2, Outcome.SUCCEEDED, True),
        (3, Outcome.SUCCEEDED, False),
    ]


def test_a_migrate_read_back_in_no_service_is_mended_a_bounded_number_of_times() -> None:
    """No write of the move ever gets an answer and the reads find it in neither service:
    the move is finished (then put back) at most MAX_REPAIRS times, then recorded as lost."""
    rounds = MAX_REPAIRS + 1  # the first read, and one after each mend
    scripts = {
        ("detach", mg(1), sc(1)): [timed_out()],
        ("attach", mg(2), sc(1)): [timed_out()] * MAX_REPAIRS,
        ("attach", mg(1), sc(1)): [timed_out()] * MAX_REPAIRS,
        ("fetch", mg(2), sc(1)): [NOT_FOUND] * rounds,
        ("fetch", mg(1), sc(1)): [NOT_FOUND] * rounds,
    }
    row = Row(2, Op.MIGRATE, mg(2), sc(1), from_service_sid=mg(1))
    journal, api, _ = run_engine([row], FakeApi(scripts), max_attempts=1, settle_s=5.0)
    (record,) = journal.results
    assert (record.outcome, record.detail, record.settled) == (
        Outcome.FAILED,
        Detail.ROLLBACK_FAILED,
        True,
    )
    assert api.calls.count(("attach", mg(2), sc(1))) == MAX_REPAIRS
    assert api.calls.count(("fetch", mg(2), sc(1))) == rounds
    assert (record.message or "").count(f"in neither {mg(1)} nor {mg(2)}") == rounds
    assert record.http_status == 404  # the read that showed it, not an answer no call gave


def test_a_migrate_read_back_in_its_source_after_a_lost_detach_keeps_its_failure() -> None:
    """The detach never landed: the sender is safe in its source; not its last row, so
    nothing more is done and the record says where it is."""
    scripts = {
        ("detach", mg(1), sc(1)): [timed_out()],
        ("fetch", mg(2), sc(1)): [NOT_FOUND],
        ("fetch", mg(1), sc(1)): [Reply(200, {"sid": sc(1)})],
    }
    rows = [
        Row(2, Op.MIGRATE, mg(2), sc(1), from_service_sid=mg(1)),
        Row(3, Op.FETCH, mg(1), sc(1)),
    ]
    journal, api, _ = run_engine(rows, FakeApi(scripts), max_attempts=1, settle_s=5.0)
    record = journal.by_line()[2]
    assert (record.outcome, record.detail, record.settled) == (
        Outcome.FAILED,
        Detail.RETRIES_EXHAUSTED,
        True,
    )
    assert f"in {mg(1)}, not in {mg(2)}" in (record.message or "")
    assert [c for c in api.calls if c[0] != "fetch"] == [("detach", mg(1), sc(1))]


@pytest.mark.parametrize(
    ("rate_per_s", "sent"),
    [
        pytest.param(10.0, 1, id="rate-spaces-starts-past-the-answer"),
        pytest.param(0.0, 4, id="no-rate-the-window-starts-at-once"),
    ],
)
def test_attaches_waiting_their_turn_are_not_sent_once_the_service_is_full(
    rate_per_s: float, sent: int
) -> None:
    """30 attaches to a full service, 8 workers: the service is asked again right before
    each call is sent, so only calls already in flight when the first 21714 arrives go
    out. At 10/s the second start comes 0.1 s after the first, past its 0.05 s answer:
    one call. With no rate the opening window (a run opens with 4 in flight until answers
    say more fit) starts together, before any answer: 4, the bound."""
    full = PermanentError(412, 21714, "pool full")
    scripts = {("attach", mg(1), sc(i)): [full] for i in range(30)}
    rows = [Row(2 + i, Op.ATTACH, mg(1), sc(i)) for i in range(30)]
    journal, api, _ = run_engine(rows, FakeApi(scripts), concurrency=8, rate_per_s=rate_per_s)
    assert len(api.calls) == sent
    assert {(r.outcome, r.detail, r.twilio_code) for r in journal.results} == {
        (Outcome.FAILED, Detail.POOL_FULL, 21714)
    }
    assert sorted(r.attempts for r in journal.results) == [0] * (30 - sent) + [1] * sent


def test_a_migrate_into_a_service_found_full_while_it_waited_never_detaches() -> None:
    """The move's first call (the detach from the source) is withheld too: nothing moves."""
    full = PermanentError(412, 21714, "pool full")
    rows = [
        Row(2, Op.ATTACH, mg(1), sc(1)),
        Row(3, Op.MIGRATE, mg(1), sc(2), from_service_sid=mg(2)),
    ]
    api = FakeApi({("attach", mg(1), sc(1)): [full]})
    journal, _, _ = run_engine(rows, api, concurrency=2, rate_per_s=10.0)
    record = journal.by_line()[3]
    assert (record.outcome, record.detail, record.attempts) == (
        Outcome.FAILED,
        Detail.POOL_FULL,
        0,
    )
    assert api.calls == [("attach", mg(1), sc(1))]
