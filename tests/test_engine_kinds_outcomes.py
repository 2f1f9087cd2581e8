"""Issue 11's outcomes for every sender kind (issue 10): late writes, services, full pools.

The fake Twilio of ``test_engine_kinds`` (services holding senders per kind, alpha
senders created by text) with what issue 11 needs of it: ``GET /v1/Services/{Sid}``,
services that do not exist (404 on every path under them), and writes that are
applied but whose answer is lost (a client timeout after sending).
"""

from __future__ import annotations

import asyncio
from typing import Any

from support import ai, mg, pn, sc
from test_engine_kinds import ALPHA, PHONE, SHORT, Twilio, alpha, run

from bulkops.errors import NetworkCause, PermanentError, TransportError
from bulkops.model import Detail, Op, Outcome, Row, SenderKind
from bulkops.twilio.wire import Reply, Request

FULL = PermanentError(412, 21714, "pool full")


class Services(Twilio):
    """:class:`Twilio`, with services read by SID, missing services and lost answers."""

    def __init__(self, pools: Any = None, *, missing: frozenset[str] = frozenset()) -> None:
        super().__init__(pools)
        self.missing = missing
        #: Services read with ``GET /v1/Services/{Sid}``, in order.
        self.service_reads: list[str] = []
        #: (method, service) → how many of the next such calls are applied, then lose
        #: their answer (a timeout after sending: the write may land, here it did).
        self.lose: dict[tuple[str, str], int] = {}
        #: The same, for calls that time out and were never applied.
        self.unapplied: dict[tuple[str, str], int] = {}

    async def send(self, request: Request, *, read_body: bool = True) -> Reply:
        path = request.path.partition("?")[0]
        parts = path.split("/")
        service = parts[3]
        if len(parts) == 4:  # /v1/Services/{Sid}
            self.service_reads.append(service)
            await asyncio.sleep(0.01)
            if service in self.missing:
                raise PermanentError(404, 20404, f"The requested resource {path} was not found")
            return Reply(200, {"sid": service})
        if service in self.missing:
            self.calls.append((request.method, path))
            await asyncio.sleep(0.01)
            raise PermanentError(404, 20404, f"The requested resource {path} was not found")
        key = (request.method, service)
        if self.unapplied.get(key):
            self.unapplied[key] -= 1
            self.calls.append((request.method, path))
            raise TransportError(
                f"{request.method} {path}: timed out",
                cause=NetworkCause.TIMED_OUT,
                maybe_applied=True,
            )
        reply = await super().send(request)
        if self.lose.get(key):
            self.lose[key] -= 1
            raise TransportError(
                f"{request.method} {path}: timed out",
                cause=NetworkCause.TIMED_OUT,
                maybe_applied=True,
            )
        return reply


def test_an_alpha_attach_whose_answers_were_lost_is_read_back_by_listing_its_service() -> None:
    """Its one attempt timed out, but it landed: succeeded, settled, with the AI SID found."""
    api = Services({mg(1): {ALPHA: {}}})
    api.lose[("POST", mg(1))] = 1
    journal = run([alpha(2, Op.ATTACH, mg(1), "Acme")], api, max_attempts=1, settle_s=5.0)
    (result,) = journal.results
    assert (result.outcome, result.detail, result.settled) == (
        Outcome.SUCCEEDED,
        Detail.ATTACHED,
        True,
    )
    assert result.sender_sid == ai(101)  # the SID the service holds the text as
    assert api.where(ALPHA, "Acme") == [mg(1)]
    collection = f"/v1/Services/{mg(1)}/AlphaSenders"
    assert api.calls == [("POST", collection), ("GET", collection)]  # the create, the read-back


def test_a_detach_after_a_lost_alpha_attach_deletes_the_sid_the_read_back_found() -> None:
    """The late attach is read back before the detach runs, so the detach finds its AI SID."""
    api = Services({mg(1): {ALPHA: {}}})
    api.lose[("POST", mg(1))] = 1
    rows = [alpha(2, Op.ATTACH, mg(1)), alpha(3, Op.DETACH, mg(1))]
    journal = run(rows, api, max_attempts=1, settle_s=5.0)
    attach, detach = journal.by_line()[2], journal.by_line()[3]
    assert (attach.outcome, attach.detail, attach.settled) == (
        Outcome.SUCCEEDED,
        Detail.ATTACHED,
        True,
    )
    assert (detach.outcome, detach.detail, detach.sender_sid) == (
        Outcome.SUCCEEDED,
        Detail.DETACHED,
        ai(101),
    )
    assert api.where(ALPHA, "Acme") == []


def test_a_lost_phone_number_detach_is_read_back_by_its_sid() -> None:
    """A phone number is read back with one GET of its SID in the service: not attached,
    as that GET's 404 shows (it cannot show whose detach did it)."""
    api = Services({mg(1): {PHONE: {pn(1): "+14155550101"}}})
    api.lose[("DELETE", mg(1))] = 1
    journal = run([Row(2, Op.DETACH, mg(1), pn(1), PHONE)], api, max_attempts=1)
    (result,) = journal.results
    assert (result.outcome, result.detail, result.settled, result.http_status) == (
        Outcome.SUCCEEDED,
        Detail.NOT_ATTACHED,
        True,
        404,
    )
    assert api.calls[-1] == ("GET", f"/v1/Services/{mg(1)}/PhoneNumbers/{pn(1)}")


def test_a_detach_or_fetch_in_a_service_that_does_not_exist_is_service_not_found() -> None:
    """Phone numbers by SID and alpha senders by text (their service's list 404s) alike;
    the service is read once for the run."""
    api = Services(missing=frozenset({mg(7)}))
    rows = [
        Row(2, Op.DETACH, mg(7), pn(1), PHONE),
        alpha(3, Op.DETACH, mg(7)),
        alpha(4, Op.FETCH, mg(7), "Beta"),
        Row(5, Op.FETCH, mg(7), sc(1)),
    ]
    journal = run(rows, api, concurrency=1)
    assert {(r.line, r.outcome, r.detail) for r in journal.results} == {
        (line, Outcome.FAILED, Detail.SERVICE_NOT_FOUND) for line in (2, 3, 4, 5)
    }
    assert api.service_reads == [mg(7)]
    assert journal.by_line()[3].http_status == 404  # the list's answer: the reason


def test_an_alpha_sender_the_list_lacks_in_a_service_that_exists_keeps_its_meaning() -> None:
    """No 404 at all: the service's list answered, so no service read either."""
    api = Services({mg(1): {ALPHA: {}}})
    journal = run([alpha(2, Op.DETACH, mg(1))], api)
    assert journal.results[0].detail is Detail.NOT_ATTACHED
    assert api.service_reads == []


def test_a_full_pool_holds_back_numbers_and_short_codes_but_not_alpha_senders() -> None:
    """21714 counts phone numbers and short codes together; alpha senders are outside it."""
    api = Services({mg(1): {PHONE: {pn(9): "+14155550109"}}})
    api.failures[("POST", mg(1))] = [FULL]
    rows = [
        Row(2, Op.ATTACH, mg(1), pn(1), PHONE),  # 21714: the service is full
        Row(3, Op.ATTACH, mg(1), sc(1)),  # held back, no call
        alpha(4, Op.ATTACH, mg(1)),  # sent: not in the pool
        alpha(5, Op.DETACH, mg(1)),  # frees no room in the pool
        Row(6, Op.ATTACH, mg(1), pn(2), PHONE),  # still held back
        Row(7, Op.DETACH, mg(1), pn(9), PHONE),  # room again
        Row(8, Op.ATTACH, mg(1), sc(2)),  # sent
    ]
    journal = run(rows, api, concurrency=1)
    details = {r.line: r.detail for r in journal.results}
    assert details == {
        2: Detail.POOL_FULL,
        3: Detail.POOL_FULL,
        4: Detail.ATTACHED,
        5: Detail.DETACHED,
        6: Detail.POOL_FULL,
        7: Detail.DETACHED,
        8: Detail.ATTACHED,
    }
    assert journal.by_line()[3].attempts == 0
    posts = [path for method, path in api.calls if method == "POST"]
    assert posts == [
        f"/v1/Services/{mg(1)}/PhoneNumbers",
        f"/v1/Services/{mg(1)}/AlphaSenders",
        f"/v1/Services/{mg(1)}/ShortCodes",
    ]


def test_a_number_migrated_from_a_mistyped_source_is_service_not_found_and_stays() -> None:
    """Move: the source's 404 is checked; no such service: nothing is attached anywhere."""
    api = Services({mg(1): {PHONE: {pn(1): "+14155550101"}}}, missing=frozenset({mg(7)}))
    journal = run([Row(2, Op.MIGRATE, mg(2), pn(1), PHONE, mg(7))], api)
    (result,) = journal.results
    assert (result.outcome, result.detail) == (Outcome.FAILED, Detail.SERVICE_NOT_FOUND)
    assert result.resource["steps"] == ["detach:404/20404"]
    assert api.where(PHONE, pn(1)) == [mg(1)]
    assert [m for m, _ in api.calls] == ["DELETE"]


def test_an_alpha_sender_migrated_from_a_mistyped_source_is_service_not_found() -> None:
    """CopyThenDelete: the copy in the target stays (it is in a service); the row fails."""
    api = Services({mg(1): {ALPHA: {ai(1): "Acme"}}}, missing=frozenset({mg(7)}))
    journal = run([alpha(2, Op.MIGRATE, mg(2), source=mg(7))], api)
    (result,) = journal.results
    assert (result.outcome, result.detail) == (Outcome.FAILED, Detail.SERVICE_NOT_FOUND)
    assert api.where(ALPHA, "Acme") == [mg(1), mg(2)]
    assert api.service_reads == [mg(7)]


def test_a_migrate_into_a_full_service_detaches_nothing() -> None:
    """The attach could only fail: pool_full without a call, the sender stays in its source."""
    api = Services({mg(1): {SHORT: {sc(5): "number"}}})
    api.failures[("POST", mg(2))] = [FULL]
    rows = [Row(2, Op.ATTACH, mg(2), pn(1), PHONE), Row(3, Op.MIGRATE, mg(2), sc(5), SHORT, mg(1))]
    journal = run(rows, api, concurrency=1)
    migrate = journal.by_line()[3]
    assert (migrate.outcome, migrate.detail, migrate.attempts) == (
        Outcome.FAILED,
        Detail.POOL_FULL,
        0,
    )
    assert api.where(SHORT, sc(5)) == [mg(1)]
    assert "DELETE" not in [m for m, _ in api.calls]


def test_every_kind_is_settled_at_the_end_of_the_run_where_its_last_row_leaves_it() -> None:
    """A lost attach of each kind that did not land is read back, applied again, recorded once."""

    api = Services()
    api.unapplied = {("POST", mg(n)): 1 for n in (1, 2, 3)}
    kinds: list[tuple[int, SenderKind, str]] = [
        (1, SHORT, sc(1)),
        (2, PHONE, pn(1)),
        (3, ALPHA, "Acme"),
    ]
    rows = [Row(1 + n, Op.ATTACH, mg(n), sender, kind) for n, kind, sender in kinds]
    journal = run(rows, api, max_attempts=1, settle_s=5.0)
    assert sorted((r.line, r.outcome, r.detail, r.settled) for r in journal.results) == [
        (line, Outcome.SUCCEEDED, Detail.ATTACHED, True) for line in (2, 3, 4)
    ]
    for n, kind, sender in kinds:
        assert api.where(kind, sender) == [mg(n)]
    assert "applied again" in (journal.by_line()[4].message or "")
