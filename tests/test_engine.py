"""The engine against a scripted fake API, on a loop whose clock jumps (no real waiting)."""

from __future__ import annotations

import asyncio
import bisect
import io
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import pytest
from support import mg, run_virtual, sc

from bulkops.config import RunConfig
from bulkops.engine import Engine, EngineClock, EngineHooks
from bulkops.errors import (
    ApiError,
    AuthenticationError,
    PermanentError,
    RunAborted,
    ServerError,
    ThrottledError,
    TransportError,
)
from bulkops.keys import key_digest
from bulkops.logs import make_logger
from bulkops.model import Detail, InvalidRow, ItemResult, Op, Outcome, Row
from bulkops.twilio.wire import Reply, Request

Script = list[Reply | ApiError]
OK = {Op.ATTACH: Reply(201, {"sid": "x"}), Op.DETACH: Reply(204, None), Op.FETCH: Reply(200, {})}


class FakeApi:
    """Answers each (op, service, sender) from a script, then with success; records timing."""

    def __init__(
        self,
        scripts: dict[tuple[str, str, str], Script] | None = None,
        *,
        latency_s: float = 0.05,
        missing: frozenset[str] = frozenset(),
    ) -> None:
        self.scripts = scripts or {}
        #: Services ``GET /v1/Services/{Sid}`` answers 404 for; every other one exists.
        self.missing = missing
        #: The services read with ``GET /v1/Services/{Sid}``, in order.
        self.service_reads: list[str] = []
        self.latency_s = latency_s
        self.calls: list[tuple[str, str, str]] = []
        self.starts: list[float] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.per_sender: dict[str, int] = defaultdict(int)
        self.overlaps = 0

    async def _answer(self, op: Op, service: str, sender: str) -> Reply:
        self.calls.append((op.value, service, sender))
        self.starts.append(asyncio.get_running_loop().time())
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.per_sender[sender] += 1
        self.overlaps += self.per_sender[sender] > 1
        try:
            await asyncio.sleep(self.latency_s)
            script = self.scripts.get((op.value, service, sender))
            answer = script.pop(0) if script else OK[op]
            if isinstance(answer, ApiError):
                raise answer
            return answer
        finally:
            self.in_flight -= 1
            self.per_sender[sender] -= 1

    async def send(self, request: Request, *, read_body: bool = True) -> Reply:
        """Answer ``request`` as the op it stands for (the path names service and sender)."""
        parts = request.path.split("/")  # /v1/Services/{MG}[/ShortCodes[/{SC}]]
        service = parts[3]
        if len(parts) == 4:
            self.service_reads.append(service)
            await asyncio.sleep(self.latency_s)
            if service in self.missing:
                raise PermanentError(
                    404, 20404, f"The requested resource {request.path} was not found"
                )
            return Reply(200, {"sid": service})
        if request.method == "POST":
            return await self._answer(Op.ATTACH, service, dict(request.form)["ShortCodeSid"])
        op = Op.DETACH if request.method == "DELETE" else Op.FETCH
        return await self._answer(op, service, parts[5])


class ListJournal:
    def __init__(self) -> None:
        self.results: list[ItemResult] = []

    def record(self, result: ItemResult, *, replaces: ItemResult | None = None) -> None:
        self.results.append(result)

    def sync_if_due(self) -> None:
        pass

    def by_line(self) -> dict[int, ItemResult]:
        return {r.line: r for r in self.results}


def rows(n: int, op: Op = Op.ATTACH, *, service: int = 1, first_line: int = 2) -> list[Row]:
    return [Row(first_line + i, op, mg(service), sc(i)) for i in range(n)]


def quiet_hooks(clock: EngineClock | None = None) -> EngineHooks:
    """The engine's hooks for a test that reads no log: info level, into a string."""
    return EngineHooks(log=make_logger(stream=io.StringIO()), clock=clock or EngineClock())


def run_engine(
    items: Iterable[Row | InvalidRow],
    api: FakeApi | None = None,
    *,
    skip: frozenset[int] = frozenset(),
    waits: list[float] | None = None,
    journal: ListJournal | None = None,
    **config: Any,
) -> tuple[ListJournal, FakeApi, Engine]:
    """Run the engine on virtual time; small backoff unless the test sets one."""
    api = api or FakeApi()
    journal = journal if journal is not None else ListJournal()
    settings = {"rate_per_s": 0.0, "backoff_initial_s": 0.5, "backoff_cap_s": 30.0} | config
    log = make_logger(stream=io.StringIO(), verbose=True)

    async def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)
        await asyncio.sleep(seconds)

    hooks = EngineHooks(log=log, clock=EngineClock(sleep=sleep, rand=lambda: 0.5))
    engine = Engine(RunConfig(**settings), api, journal, hooks=hooks, skip=skip)
    run_virtual(engine.run(items))
    return journal, api, engine


def test_every_row_gets_exactly_one_record() -> None:
    """Each valid row is called once and recorded once, with its line."""
    journal, api, _ = run_engine(rows(50), concurrency=8)
    assert sorted(r.line for r in journal.results) == list(range(2, 52))
    assert len(api.calls) == 50
    assert {(r.outcome, r.detail, r.http_status) for r in journal.results} == {
        (Outcome.SUCCEEDED, Detail.ATTACHED, 201)
    }


def test_concurrency_bounds_calls_in_flight() -> None:
    """No more than --concurrency calls are ever in flight."""
    _, api, _ = run_engine(rows(100), concurrency=7)
    assert api.peak_in_flight == 7


@pytest.mark.parametrize("rate", [10.0, 50.0, 400.0])
def test_rate_is_a_promise_in_every_one_second_window(rate: float) -> None:
    """No one-second window, start-up included, sees more than rate + 0.5 % + 1 call starts."""
    n = int(rate * 10)  # a long run: ten seconds, slow start included
    # 0.1 s per call: the concurrency (64) allows 640 calls/s, more than any rate here.
    _, api, _ = run_engine(rows(n), FakeApi(latency_s=0.1), concurrency=64, rate_per_s=rate)
    starts = sorted(api.starts)
    most = max(bisect.bisect_left(starts, t + 1.0) - i for i, t in enumerate(starts))
    assert most <= rate * 1.005 + 1
    achieved = (n - 1) / (starts[-1] - starts[0])
    assert achieved >= 0.98 * rate


def test_invalid_rows_are_recorded_and_never_sent() -> None:
    """An invalid row gets an invalid record with its problem and makes no call."""
    bad = InvalidRow(3, "attach", mg(1), "SC-nope", "short_code_sid 'SC-nope' is malformed")
    journal, api, _ = run_engine([*rows(1), bad])
    record = journal.by_line()[3]
    assert (record.outcome, record.detail, record.message) == (
        Outcome.INVALID, Detail.INVALID_ROW, bad.problem,
    )  # fmt: skip
    assert api.calls == [("attach", mg(1), sc(0))]


def test_transient_errors_are_retried_with_backoff_then_succeed() -> None:
    """503 and a dropped connection wait their full-jitter backoff; a 429 the engine's pause."""
    key = ("attach", mg(1), sc(0))
    script: Script = [ServerError(503, 20503, "down"), ThrottledError(429, 20429, "slow"),
                      TransportError("POST …: ServerDisconnectedError")]  # fmt: skip
    waits: list[float] = []
    journal, api, _ = run_engine(rows(1), FakeApi({key: script}), waits=waits)
    (record,) = journal.results
    assert (record.outcome, record.attempts, record.throttled) == (Outcome.SUCCEEDED, 4, 1)
    assert waits == pytest.approx([0.25, 0.02, 1.0])  # rand 0.5 × 0.5·2ⁿ; the shared pause
    assert len(api.calls) == 4


def test_retry_after_is_a_floor_on_the_wait() -> None:
    """A 429 with Retry-After waits that long (the whole engine does)."""
    key = ("attach", mg(1), sc(0))
    waits: list[float] = []
    run_engine(rows(1), FakeApi({key: [ThrottledError(429, 20429, "x", retry_after_s=7.0)]}),
               waits=waits)  # fmt: skip
    assert waits == [7.0]


def test_retries_run_out_after_max_attempts() -> None:
    """A row that stays throttled fails as retries_exhausted after --max-attempts."""
    key = ("attach", mg(1), sc(0))
    script: Script = [ThrottledError(429, 20429, "slow")] * 10
    journal, _, _ = run_engine(rows(1), FakeApi({key: script}), max_attempts=3)
    (record,) = journal.results
    assert (record.outcome, record.detail, record.attempts, record.throttled) == (
        Outcome.FAILED, Detail.RETRIES_EXHAUSTED, 3, 3,
    )  # fmt: skip
    assert (record.http_status, record.twilio_code) == (429, 20429)


def test_permanent_errors_are_not_retried() -> None:
    """A 4xx other than 429 is Twilio's final word: one attempt."""
    key = ("attach", mg(1), sc(0))
    error = PermanentError(409, 21712, "in another service")
    journal, _, _ = run_engine(rows(1), FakeApi({key: [error]}))
    (record,) = journal.results
    assert (record.outcome, record.detail, record.attempts) == (
        Outcome.FAILED, Detail.ATTACHED_ELSEWHERE, 1,
    )  # fmt: skip
    assert record.message == "in another service"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_401_aborts_the_run_at_once(concurrency: int) -> None:
    """Bad credentials stop the run: RunAborted, only calls already started, no record."""
    scripts = {("attach", mg(1), sc(i)): [AuthenticationError(401, 20003, "auth")]
               for i in range(200)}  # fmt: skip
    api, journal = FakeApi(scripts), ListJournal()
    with pytest.raises(RunAborted, match="authentication failed"):
        run_engine(rows(200), api, journal=journal, concurrency=concurrency)
    assert 1 <= len(api.calls) <= concurrency
    assert journal.results == []


def test_fetch_records_carry_the_resource_fields() -> None:
    """A fetched row's record holds short_code, country_code and capabilities."""
    body = {"short_code": "12345", "country_code": "US", "capabilities": ["SMS"], "sid": "x"}
    key = ("fetch", mg(1), sc(0))
    journal, _, _ = run_engine(rows(1, Op.FETCH), FakeApi({key: [Reply(200, body)]}))
    record = journal.results[0].to_record()
    assert (record["short_code"], record["country_code"], record["capabilities"]) == (
        "12345", "US", ["SMS"],
    )  # fmt: skip
    assert "sid" not in record


def test_a_repeated_row_is_recorded_as_duplicate_and_not_sent() -> None:
    """The second row with the same key is skipped/duplicate; one call is made."""
    row = Row(2, Op.ATTACH, mg(1), sc(0))
    journal, api, _ = run_engine([row, Row(3, Op.ATTACH, mg(1), sc(0))])
    assert journal.by_line()[3].detail is Detail.DUPLICATE
    assert journal.by_line()[3].outcome is Outcome.SKIPPED
    assert len(api.calls) == 1


def test_two_operations_on_one_sender_are_never_in_flight_together() -> None:
    """Rows for the same sender wait for each other, in file order."""
    ops = [Op.ATTACH, Op.FETCH, Op.DETACH, Op.ATTACH, Op.FETCH, Op.DETACH]
    items = [Row(2 + i, op, mg(i), sc(0)) for i, op in enumerate(ops)]
    _, api, _ = run_engine(items, concurrency=6)
    assert api.overlaps == 0
    assert [c[0] for c in api.calls] == ["attach", "fetch", "detach", "attach", "fetch", "detach"]


def test_rows_already_done_are_skipped_without_a_record() -> None:
    """Rows whose key is in ``skip`` make no call and get no new record."""
    items = rows(5)
    done = frozenset(key_digest(r.key) for r in items[:3])
    journal, api, engine = run_engine(items, skip=done)
    assert sorted(r.line for r in journal.results) == [5, 6]
    assert len(api.calls) == 2
    assert engine.skipped_done == 3


def migrate_row(line: int = 2) -> Row:
    return Row(line, Op.MIGRATE, mg(2), sc(0), from_service_sid=mg(1))


def test_migrate_detaches_from_the_source_then_attaches_to_the_target() -> None:
    """A migration is a DELETE on the source and a POST on the target."""
    journal, api, _ = run_engine([migrate_row()])
    (record,) = journal.results
    assert api.calls == [("detach", mg(1), sc(0)), ("attach", mg(2), sc(0))]
    assert (record.outcome, record.detail) == (Outcome.SUCCEEDED, Detail.MIGRATED)
    assert record.to_record()["steps"] == ["detach:204", "attach:201"]


def test_migrate_already_done_counts_as_migrated() -> None:
    """Source 404 then target 21710: an earlier run already moved it."""
    scripts = {("detach", mg(1), sc(0)): [PermanentError(404, 20404, "not found")],
               ("attach", mg(2), sc(0)): [PermanentError(409, 21710, "already")]}  # fmt: skip
    journal, _, _ = run_engine([migrate_row()], FakeApi(scripts))
    assert journal.results[0].detail is Detail.MIGRATED


def test_migrate_rolls_back_when_the_attach_fails_for_good() -> None:
    """Target refuses: the sender goes back to the source; failed/rolled_back with the reason."""
    scripts = {("attach", mg(2), sc(0)): [PermanentError(412, 21714, "pool full")]}
    journal, api, _ = run_engine([migrate_row()], FakeApi(scripts))
    (record,) = journal.results
    assert api.calls[-1] == ("attach", mg(1), sc(0))
    assert (record.outcome, record.detail) == (Outcome.FAILED, Detail.ROLLED_BACK)
    assert (record.http_status, record.twilio_code, record.message) == (412, 21714, "pool full")
    assert record.to_record()["steps"] == ["detach:204", "attach:412/21714", "reattach:201"]


def test_migrate_whose_rollback_fails_says_so() -> None:
    """If putting the sender back fails too, the record says rollback_failed."""
    scripts = {("attach", mg(2), sc(0)): [PermanentError(412, 21714, "pool full")],
               ("attach", mg(1), sc(0)): [PermanentError(412, 21714, "pool full")]}  # fmt: skip
    journal, _, _ = run_engine([migrate_row()], FakeApi(scripts))
    assert journal.results[0].detail is Detail.ROLLBACK_FAILED


def test_migrate_with_no_source_and_the_sender_elsewhere_leaves_it_there() -> None:
    """Source 404 and target says 21712 (in another service): failed, nothing to restore."""
    scripts = {("detach", mg(1), sc(0)): [PermanentError(404, 20404, "not found")],
               ("attach", mg(2), sc(0)): [PermanentError(409, 21712, "elsewhere")]}  # fmt: skip
    journal, api, _ = run_engine([migrate_row()], FakeApi(scripts))
    assert journal.results[0].detail is Detail.ATTACHED_ELSEWHERE
    assert len(api.calls) == 2


def test_max_failures_stops_the_run() -> None:
    """--max-failures N stops taking rows at the N-th failure and says why."""
    scripts = {("attach", mg(1), sc(i)): [PermanentError(409, 21712, "elsewhere")]
               for i in range(100)}  # fmt: skip
    api = FakeApi(scripts)
    with pytest.raises(RunAborted, match="--max-failures 3"):
        run_engine(rows(100), api, concurrency=2, max_failures=3)
    assert len(api.calls) <= 3 + 2


def test_stop_takes_no_more_rows_and_records_those_in_flight() -> None:
    """After stop(), rows in flight finish and are recorded; no new row starts."""
    api = FakeApi(latency_s=1.0)
    journal = ListJournal()
    engine = Engine(RunConfig(rate_per_s=0, concurrency=4), api, journal, hooks=quiet_hooks())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, engine.stop)
        await engine.run(rows(100))

    run_virtual(main())
    assert len(api.calls) == 4
    assert len(journal.results) == 4
    assert all(r.outcome is Outcome.SUCCEEDED for r in journal.results)


def test_stop_abandons_rows_waiting_to_retry() -> None:
    """A row between retries when the run stops gets no record (a resume redoes it)."""
    key = ("attach", mg(1), sc(0))
    api = FakeApi({key: [ServerError(503, 20503, "down")] * 5}, latency_s=0.1)
    journal = ListJournal()
    hooks = quiet_hooks(clock=EngineClock(rand=lambda: 1.0))
    engine = Engine(RunConfig(rate_per_s=0, concurrency=1), api, journal, hooks=hooks)

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.2, engine.stop)
        await engine.run(rows(3))

    run_virtual(main())
    assert journal.results == []
    assert len(api.calls) == 1  # the retry due at 0.5 s never started


def test_a_throttle_pauses_every_worker_and_retry_after_holds_only_its_row() -> None:
    """After a 429 (Retry-After 3 s), no call starts for the shared pause; the row waits 3 s.

    Without Twilio's count the AIMD fallback steers: the shared pause is its
    first backoff (20 ms), not the Retry-After, which only the throttled row waits.
    """
    key = ("attach", mg(1), sc(0))
    api = FakeApi({key: [ThrottledError(429, 20429, "slow", retry_after_s=3.0)]}, latency_s=0.1)
    run_engine(rows(40), api, concurrency=4)
    throttled_at = api.starts[0] + 0.1
    assert not [t for t in api.starts if throttled_at + 0.001 < t < throttled_at + 0.019]
    assert [t for t in api.starts if throttled_at + 0.019 < t < throttled_at + 1.0]
    (retried_at,) = [t for t, call in zip(api.starts, api.calls, strict=True) if call == key][1:]
    assert retried_at >= throttled_at + 3.0


def test_a_503_does_not_pause_the_others() -> None:
    """A 5xx is not a throttle: other rows keep starting while the failed one backs off."""
    key = ("attach", mg(1), sc(0))
    api = FakeApi({key: [ServerError(503, 20503, "down", retry_after_s=3.0)]}, latency_s=0.1)
    run_engine(rows(40), api, concurrency=4)
    failed_at = api.starts[0] + 0.1
    assert [t for t in api.starts if failed_at < t < failed_at + 2.9]


def test_elapsed_is_the_rows_own_time_not_its_wait_for_the_rate() -> None:
    """elapsed_ms runs from the row's first call: queueing behind --rate is not latency."""
    journal, _, _ = run_engine(rows(30), FakeApi(latency_s=0.05), concurrency=8, rate_per_s=5)
    assert {r.elapsed_ms for r in journal.results} == {50.0}


def test_migrate_after_a_source_404_still_puts_a_refused_sender_back() -> None:
    """A 404 may answer our own earlier detach: if the attach then fails, reattach the source."""
    scripts = {("detach", mg(1), sc(0)): [PermanentError(404, 20404, "not found")],
               ("attach", mg(2), sc(0)): [PermanentError(412, 21714, "pool full")]}  # fmt: skip
    journal, api, _ = run_engine([migrate_row()], FakeApi(scripts))
    (record,) = journal.results
    assert api.calls[-1] == ("attach", mg(1), sc(0))
    assert (record.outcome, record.detail, record.twilio_code) == (
        Outcome.FAILED, Detail.ROLLED_BACK, 21714,
    )  # fmt: skip


def test_migrate_after_a_source_404_finds_the_sender_elsewhere_on_reattach() -> None:
    """Reattach answered 21712: the sender is in some service; failed with the attach's reason."""
    scripts = {("detach", mg(1), sc(0)): [PermanentError(404, 20404, "not found")],
               ("attach", mg(2), sc(0)): [PermanentError(412, 21714, "pool full")],
               ("attach", mg(1), sc(0)): [PermanentError(409, 21712, "elsewhere")]}  # fmt: skip
    journal, _, _ = run_engine([migrate_row()], FakeApi(scripts))
    assert journal.results[0].detail is Detail.POOL_FULL


def test_rows_of_one_sender_keep_file_order_with_fewer_workers_than_rows() -> None:
    """With 2 workers, attach/detach/attach of one sender still run in file order."""
    items = [Row(2, Op.ATTACH, mg(1), sc(0)), Row(3, Op.DETACH, mg(1), sc(0)),
             Row(4, Op.ATTACH, mg(2), sc(0))]  # fmt: skip
    _, api, _ = run_engine(items, concurrency=2)
    assert api.calls == [("attach", mg(1), sc(0)), ("detach", mg(1), sc(0)),
                         ("attach", mg(2), sc(0))]  # fmt: skip
    assert api.overlaps == 0


def test_identical_invalid_rows_are_each_invalid_not_duplicates() -> None:
    """Malformed rows that look alike are all recorded invalid."""
    bad = [InvalidRow(n, "", "", "", "not valid JSON") for n in (2, 3, 4)]
    journal, _, _ = run_engine(bad)
    assert [r.outcome for r in journal.results] == [Outcome.INVALID] * 3


def test_stop_keeps_rows_waiting_for_the_rate_from_starting() -> None:
    """Rows taken but still waiting for the rate limit do not start after stop()."""
    api = FakeApi(latency_s=0.01)
    journal = ListJournal()
    engine = Engine(RunConfig(rate_per_s=1, concurrency=8), api, journal, hooks=quiet_hooks())

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.5, engine.stop)
        await engine.run(rows(20))

    run_virtual(main())
    assert len(api.calls) == 1
    assert len(journal.results) == 1
