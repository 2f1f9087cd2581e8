"""The engine on every kind: alpha senders by text, phone numbers by SID, unresolved numbers.

A fake Twilio keeps each service's senders per collection and answers by the
spec's paths, so what the engine asks (and how often it lists) is visible.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from typing import Any

from support import ai, mg, pn, run_virtual, sc

from bulkops.config import RunConfig
from bulkops.engine import Engine, EngineClock, EngineHooks
from bulkops.engine.calls import CallLoop
from bulkops.engine.directory import ServiceDirectory
from bulkops.errors import ApiError, PermanentError, ServerError
from bulkops.logs import make_logger
from bulkops.model import Detail, InvalidRow, ItemResult, Op, Outcome, Row, SenderKind
from bulkops.twilio.wire import Reply, Request

SHORT, PHONE, ALPHA = SenderKind.SHORT_CODE, SenderKind.PHONE_NUMBER, SenderKind.ALPHA_SENDER
KINDS = {kind.collection: kind for kind in SenderKind}


class Twilio:
    """Services holding senders per kind; alpha senders get an AI SID when created."""

    def __init__(self, pools: dict[str, dict[SenderKind, dict[str, str]]] | None = None) -> None:
        #: service → kind → SID → the sender's number (or alpha text).
        self.pools: dict[str, dict[SenderKind, dict[str, str]]] = pools or {}
        self.calls: list[tuple[str, str]] = []
        #: (method, service) → errors to answer first, in order.
        self.failures: dict[tuple[str, str], list[ApiError]] = {}
        self._minted = 100

    def pool(self, service: str, kind: SenderKind) -> dict[str, str]:
        return self.pools.setdefault(service, {}).setdefault(kind, {})

    async def send(self, request: Request, *, read_body: bool = True) -> Reply:
        await asyncio.sleep(0.01)
        path, _, query = request.path.partition("?")
        _, _, _, service, collection, *rest = path.split("/")
        kind = KINDS[collection]
        self.calls.append((request.method, path))
        failures = self.failures.get((request.method, service))
        if failures:
            raise failures.pop(0)
        pool = self.pool(service, kind)
        if request.method == "POST":
            return self._create(service, kind, request.form[0][1])
        if not rest:  # a list page, PageSize items from Page
            params = dict(part.split("=") for part in query.split("&") if part)
            size, page = int(params.get("PageSize", 50)), int(params.get("Page", 0))
            items = [{"sid": sid, kind.number_field: n} for sid, n in sorted(pool.items())]
            more = len(items) > (page + 1) * size
            following = f"https://x.test{path}?PageSize={size}&Page={page + 1}" if more else None
            body = {kind.list_key: items[page * size : (page + 1) * size]}
            return Reply(200, body | {"meta": {"next_page_url": following}})
        (sid,) = rest
        if sid not in pool:
            raise PermanentError(404, 20404, "not found")
        if request.method == "DELETE":
            del pool[sid]
            return Reply(204, None)
        return Reply(200, {"sid": sid, kind.number_field: pool[sid], "country_code": "GB"})

    def _create(self, service: str, kind: SenderKind, value: str) -> Reply:
        pool = self.pool(service, kind)
        if kind.spec.creates_by_text:
            if value in pool.values():
                raise PermanentError(409, 21710, "already in this service")
            self._minted += 1
            sid = ai(self._minted)
            pool[sid] = value
            return Reply(201, {"sid": sid, "alpha_sender": value})
        if value in pool:
            raise PermanentError(409, 21710, "already in this service")
        if any(value in p.get(kind, {}) for p in self.pools.values()):
            raise PermanentError(409, 21712, "in another service")
        pool[value] = "number"
        return Reply(201, {"sid": value})

    def where(self, kind: SenderKind, sender: str) -> list[str]:
        """The services holding a sender (by SID, or by text for alpha senders)."""
        return sorted(
            s for s, kinds in self.pools.items()
            for sid, text in kinds.get(kind, {}).items() if sender in (sid, text)
        )  # fmt: skip


class Journal:
    def __init__(self) -> None:
        self.results: list[ItemResult] = []

    def record(self, result: ItemResult, *, replaces: ItemResult | None = None) -> None:
        self.results.append(result)

    def sync_if_due(self) -> None:
        pass

    def by_line(self) -> dict[int, ItemResult]:
        return {r.line: r for r in self.results}


def run(items: Iterable[Row | InvalidRow], api: Twilio, **config: Any) -> Journal:
    """Run the engine on virtual time, with quick retries."""
    journal = Journal()
    settings = {"rate_per_s": 0.0, "backoff_initial_s": 0.1, "backoff_cap_s": 1.0} | config
    hooks = EngineHooks(log=make_logger(stream=io.StringIO()), clock=EngineClock(rand=lambda: 0.5))
    engine = Engine(RunConfig(**settings), api, journal, hooks=hooks)
    run_virtual(engine.run(items))
    return journal


def alpha(line: int, op: Op, service: str, text: str = "Acme", source: str | None = None) -> Row:
    return Row(line, op, service, text, ALPHA, source)


def test_an_alpha_attach_posts_the_text_and_records_the_sid_twilio_created() -> None:
    """AlphaSender=<text>; the record's sender is the text and its sender_sid the new AI SID."""
    api = Twilio()
    journal = run([alpha(2, Op.ATTACH, mg(1), "Acme Co")], api)
    (result,) = journal.results
    assert (result.outcome, result.detail) == (Outcome.SUCCEEDED, Detail.ATTACHED)
    assert api.where(ALPHA, "Acme Co") == [mg(1)]
    record = result.to_record()
    assert (record["kind"], record["sender"], record["sender_sid"]) == (
        "alpha_sender", "Acme Co", ai(101),
    )  # fmt: skip
    assert "alpha_sender_sid" not in record
    assert api.calls == [("POST", f"/v1/Services/{mg(1)}/AlphaSenders")]


def test_attaching_an_alpha_sender_the_service_has_finds_its_sid_listing_once_per_service() -> None:
    """409/21710 is already_attached with the existing AI SID; one list call per service."""
    api = Twilio({mg(1): {ALPHA: {ai(1): "Acme", ai(2): "Beta"}}})
    journal = run([alpha(2, Op.ATTACH, mg(1), "Acme"), alpha(3, Op.ATTACH, mg(1), "Beta")], api)
    by_line = journal.by_line()
    assert {(r.outcome, r.detail) for r in journal.results} == {
        (Outcome.SUCCEEDED, Detail.ALREADY_ATTACHED)
    }
    assert (by_line[2].sender_sid, by_line[3].sender_sid) == (ai(1), ai(2))
    lists = [c for c in api.calls if c == ("GET", f"/v1/Services/{mg(1)}/AlphaSenders")]
    assert len(lists) == 1


def test_detach_and_fetch_of_an_alpha_sender_address_its_sid_in_that_service() -> None:
    """fetch then detach: the service is listed once, each call names the AI SID."""
    api = Twilio({mg(1): {ALPHA: {ai(7): "Acme"}}})
    journal = run([alpha(2, Op.FETCH, mg(1)), alpha(3, Op.DETACH, mg(1))], api)
    fetched, detached = journal.by_line()[2], journal.by_line()[3]
    assert (fetched.detail, fetched.sender_sid, fetched.resource["alpha_sender"]) == (
        Detail.FETCHED, ai(7), "Acme",
    )  # fmt: skip
    assert (detached.detail, detached.sender_sid) == (Detail.DETACHED, ai(7))
    collection = f"/v1/Services/{mg(1)}/AlphaSenders"
    assert api.calls == [
        ("GET", collection), ("GET", f"{collection}/{ai(7)}"), ("DELETE", f"{collection}/{ai(7)}"),
    ]  # fmt: skip


def test_an_alpha_sender_the_service_lacks_is_not_attached_or_not_found_by_its_list() -> None:
    """detach: succeeded/not_attached; fetch: failed/not_found, asking Twilio (the list afresh)."""
    api = Twilio({mg(1): {ALPHA: {ai(1): "Other"}}})
    journal = run([alpha(2, Op.DETACH, mg(1)), alpha(3, Op.FETCH, mg(1), "Nope")], api)
    detach, fetch = journal.by_line()[2], journal.by_line()[3]
    assert (detach.outcome, detach.detail) == (Outcome.SUCCEEDED, Detail.NOT_ATTACHED)
    assert (fetch.outcome, fetch.detail, fetch.attempts) == (Outcome.FAILED, Detail.NOT_FOUND, 1)
    assert "is not among" in (fetch.message or "")
    assert api.calls == [("GET", f"/v1/Services/{mg(1)}/AlphaSenders")] * 2


def test_a_fetch_of_an_alpha_sender_sees_what_changed_since_the_list_was_read() -> None:
    """A text someone adds after the run listed the service is fetched, not found absent."""

    class AddedMeanwhile(Twilio):
        async def send(self, request: Request, *, read_body: bool = True) -> Reply:
            reply = await super().send(request, read_body=read_body)
            self.pool(mg(1), ALPHA).setdefault(ai(2), "Late")  # after the first list
            return reply

    api = AddedMeanwhile({mg(1): {ALPHA: {ai(1): "Other"}}})
    rows = [alpha(2, Op.DETACH, mg(1), "Nope"), alpha(3, Op.FETCH, mg(1), "Late")]
    journal = run(rows, api, concurrency=1)
    fetched = journal.by_line()[3]
    assert (fetched.outcome, fetched.detail, fetched.sender_sid) == (
        Outcome.SUCCEEDED, Detail.FETCHED, ai(2),
    )  # fmt: skip
    assert fetched.attempts == 2  # the list, then the GET of its AI SID


def test_what_the_run_creates_is_found_later_without_listing_again() -> None:
    """attach then detach of the same text: the detach uses the SID the attach was given."""
    api = Twilio({mg(1): {ALPHA: {}}})
    journal = run([alpha(2, Op.FETCH, mg(1), "Zed"), alpha(3, Op.ATTACH, mg(1)),
                   alpha(4, Op.DETACH, mg(1))], api)  # fmt: skip
    assert [r.detail for r in sorted(journal.results, key=lambda r: r.line)] == [
        Detail.NOT_FOUND, Detail.ATTACHED, Detail.DETACHED,
    ]  # fmt: skip
    assert api.where(ALPHA, "Acme") == []
    assert [m for m, _ in api.calls].count("GET") == 1


def test_an_alpha_migrate_creates_in_the_target_before_deleting_from_the_source() -> None:
    """The sender is never in no service: POST to the target, then list and DELETE the source."""
    api = Twilio({mg(1): {ALPHA: {ai(1): "Acme"}}})
    journal = run([alpha(2, Op.MIGRATE, mg(2), source=mg(1))], api)
    (result,) = journal.results
    assert (result.outcome, result.detail) == (Outcome.SUCCEEDED, Detail.MIGRATED)
    assert api.where(ALPHA, "Acme") == [mg(2)]
    assert [m for m, _ in api.calls] == ["POST", "GET", "DELETE"]
    assert result.resource["steps"] == ["attach:201", "list:200", "detach:204"]
    assert result.sender_sid == ai(101)  # the SID it has in the target


def test_a_failed_alpha_create_changes_nothing() -> None:
    """The target refuses the create: the source keeps the sender and nothing is deleted."""
    api = Twilio({mg(1): {ALPHA: {ai(1): "Acme"}}})
    api.failures[("POST", mg(2))] = [PermanentError(400, 21709, "bad alpha sender")]
    journal = run([alpha(2, Op.MIGRATE, mg(2), source=mg(1))], api)
    (result,) = journal.results
    assert (result.outcome, result.detail, result.twilio_code) == (
        Outcome.FAILED, Detail.REJECTED, 21709,
    )  # fmt: skip
    assert api.where(ALPHA, "Acme") == [mg(1)]
    assert [m for m, _ in api.calls] == ["POST"]


def test_an_alpha_migrate_whose_delete_fails_fails_and_reruns_to_completion() -> None:
    """In both services after a failed delete: failed, then a re-run finishes the move."""
    api = Twilio({mg(1): {ALPHA: {ai(1): "Acme"}}})
    api.failures[("DELETE", mg(1))] = [ServerError(503, 20503, "down")] * 2
    first = run([alpha(2, Op.MIGRATE, mg(2), source=mg(1))], api, max_attempts=2)
    assert first.results[0].outcome is Outcome.FAILED
    assert api.where(ALPHA, "Acme") == [mg(1), mg(2)]
    again = run([alpha(2, Op.MIGRATE, mg(2), source=mg(1))], api)
    assert (again.results[0].outcome, again.results[0].detail) == (
        Outcome.SUCCEEDED, Detail.MIGRATED,
    )  # fmt: skip
    assert api.where(ALPHA, "Acme") == [mg(2)]


def test_an_alpha_migrate_already_done_is_migrated_with_the_target_sid() -> None:
    """21710 in the target and absent from the source: migrated, no delete."""
    api = Twilio({mg(2): {ALPHA: {ai(5): "Acme"}}, mg(1): {ALPHA: {}}})
    journal = run([alpha(2, Op.MIGRATE, mg(2), source=mg(1))], api)
    (result,) = journal.results
    assert (result.detail, result.sender_sid) == (Detail.MIGRATED, ai(5))
    assert "DELETE" not in [m for m, _ in api.calls]


def test_phone_numbers_attach_detach_and_migrate_by_sid_like_short_codes() -> None:
    """PhoneNumbers with PhoneNumberSid; a migrate detaches first; no listing at all."""
    api = Twilio({mg(1): {PHONE: {pn(1): "+14155550100"}}})
    items = [Row(2, Op.MIGRATE, mg(2), pn(1), PHONE, mg(1)), Row(3, Op.ATTACH, mg(3), pn(2), PHONE)]
    journal = run(items, api)
    assert {r.detail for r in journal.results} == {Detail.MIGRATED, Detail.ATTACHED}
    assert api.where(PHONE, pn(1)) == [mg(2)]
    assert [m for m, _ in api.calls] == ["DELETE", "POST", "POST"]
    assert journal.by_line()[3].to_record()["phone_number_sid"] == pn(2)


def test_a_number_that_did_not_resolve_is_sender_not_found_and_never_sent() -> None:
    """A row still naming a number (the account lacks it) fails without a call."""
    api = Twilio()
    journal = run([Row(2, Op.ATTACH, mg(1), "+14155550199", PHONE)], api)
    (result,) = journal.results
    assert (result.outcome, result.detail) == (Outcome.FAILED, Detail.SENDER_NOT_FOUND)
    assert "+14155550199" in (result.message or "")
    assert result.to_record()["sender"] == "+14155550199"
    assert api.calls == []


def test_one_sender_named_by_sid_and_by_resolved_number_is_one_sender() -> None:
    """The second naming is a duplicate of the first: judged on the resolved sender."""
    api = Twilio()
    by_sid = Row(2, Op.ATTACH, mg(1), pn(4), PHONE)
    by_number = Row(3, Op.ATTACH, mg(1), "+14155550104", PHONE, sender_sid=pn(4))
    journal = run([by_sid, by_number], api)
    assert journal.by_line()[3].detail is Detail.DUPLICATE
    assert journal.by_line()[3].to_record()["sender"] == "+14155550104"
    assert len(api.calls) == 1


def test_a_short_code_row_by_sid_makes_exactly_one_call() -> None:
    """The hot path stays lean: no listing, no lookup, one POST per short-code row."""
    api = Twilio()
    journal = run([Row(2 + i, Op.ATTACH, mg(1), sc(i)) for i in range(20)], api, concurrency=4)
    assert len(journal.results) == 20
    assert [m for m, _ in api.calls] == ["POST"] * 20


def test_the_directory_reads_every_page_of_a_service_list() -> None:
    """An alpha sender on a later page is found; each page is one call through the loop."""
    api = Twilio({mg(1): {ALPHA: {ai(n): f"Brand {n}" for n in range(5)}}})

    async def find() -> tuple[str | None, int]:
        config = RunConfig(rate_per_s=0.0)
        hooks = EngineHooks(log=make_logger(stream=io.StringIO()))
        loop = asyncio.get_running_loop()
        calls = CallLoop(api, config, hooks=hooks, monotonic=loop.time, stopping=lambda: False)
        found = await ServiceDirectory(calls, page_size=2).find(
            alpha(2, Op.FETCH, mg(1), "Brand 4"), mg(1)
        )
        return found.sid, len(found.calls)

    assert run_virtual(find()) == (ai(4), 3)
    assert [path.rsplit("/", 1)[-1] for _, path in api.calls] == ["AlphaSenders"] * 3
