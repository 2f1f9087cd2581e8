"""Issue 11's network checks with issue 10's numbers: the pre-flight read, then resolution.

A job that names phone numbers is resolved through the account's listings (the
2010 API) before its first write. The pre-flight read comes before those calls;
a resolution that cannot be done stops the run the same way (one line, nothing
recorded); and the 2010 API's host goes through the same proxy, trusting the
same CA bundle, as the Messaging API's.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
import trustme
from e2e_support import fast_config, run_job
from proxy_support import ConnectProxy
from support import mg

import bulkops
from bulkops.egress import resolve_egress
from bulkops.model import SenderKind
from bulkops.sandbox import LoadProfile, Sandbox, World
from bulkops.twilio import TwilioClient
from bulkops.twilio.listing import AccountLister

PHONE = SenderKind.PHONE_NUMBER
LIST_NUMBERS = "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
NUMBERS = [f"+1415555{n:04d}" for n in range(3)]


def numbers_world() -> World:
    world = World()
    world.add_service(mg(1))
    world.seed_senders(PHONE, NUMBERS)
    return world


def numbers_job(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.csv"
    rows = "".join(f"{mg(1)},{number},attach\n" for number in NUMBERS)
    path.write_text("service_sid,sender,op\n" + rows, encoding="utf-8")
    return path


@pytest.mark.asyncio
async def test_the_pre_flight_read_comes_before_the_numbers_are_resolved(
    tmp_path: Path, results: Path
) -> None:
    """Nothing answers: the pre-flight read stops the run; no listing call was made."""
    async with Sandbox(world=numbers_world(), load=LoadProfile(drop_p=1.0)) as sb:
        run = await run_job(
            sb, numbers_job(tmp_path), results, fast_config(sb.base_url, max_attempts=2)
        )
        routes = dict(sb.stats.by_route)
    assert not run.reached
    assert run.records == []
    assert set(routes) == {"GET /v1/Services/{Sid}"}  # the read's attempts, nothing else


@pytest.mark.asyncio
async def test_numbers_that_cannot_be_resolved_stop_the_run_before_anything_is_recorded(
    tmp_path: Path, results: Path
) -> None:
    """The pre-flight read passes; the account's listing answers 404 (another account's
    SID): one line, exit 3 as a run stopped before its first write, no record, no write."""
    async with Sandbox(world=numbers_world()) as sb:
        other = "AC" + "9" * 32
        credentials = replace(sb.credentials(), account_sid=other)
        summary = await bulkops.run_job(
            numbers_job(tmp_path),
            config=fast_config(sb.base_url),
            credentials=credentials,
            results=results,
        )
        routes = dict(sb.stats.by_route)
    assert not summary.reached
    assert summary.exit_code == 3
    assert summary.aborted is not None
    assert summary.aborted.startswith(f"account {other} has no incoming_phone_numbers listing")
    assert not results.exists()  # noqa: ASYNC240 - after the run, a one-off check
    assert set(routes) == {"GET /v1/Services/{Sid}", LIST_NUMBERS}  # no write
    assert routes["GET /v1/Services/{Sid}"] == 1


MESSAGING_HOST = "messaging.bulkops.invalid"
API_HOST = "api.bulkops.invalid"


@pytest_asyncio.fixture
async def tls_sandbox(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, str]]:
    """The sandbox over HTTPS for both hosts, signed by a private CA; yields it and the CA file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(MESSAGING_HOST, API_HOST).configure_cert(context)
    ca_file = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with Sandbox(world=numbers_world(), tls=context) as sandbox:
        yield sandbox, str(ca_file)


@pytest.mark.asyncio
async def test_the_2010_api_host_goes_through_the_same_proxy_and_ca(
    tls_sandbox: tuple[Sandbox, str],
) -> None:
    """Neither host resolves but through the proxy; the account's listing is read there too."""
    sandbox, ca_file = tls_sandbox
    port = sandbox.port
    base_url = f"https://{MESSAGING_HOST}:{port}"
    async with ConnectProxy({MESSAGING_HOST: port, API_HOST: port}) as proxy:
        env = {"HTTPS_PROXY": proxy.url, "REQUESTS_CA_BUNDLE": ca_file}
        async with TwilioClient.open(
            base_url=base_url,
            api_base_url=f"https://{API_HOST}:{port}",
            credentials=sandbox.credentials(),
            pool_size=1,
            timeout_s=5.0,
            egress=resolve_egress(base_url, env=env),
        ) as client:
            listing = PHONE.spec.account_listing
            assert listing is not None
            lister = AccountLister(client, sandbox.account_sid)
            found = [pair async for page in lister.numbers(listing) for pair in page]
    assert sorted(number for number, _ in found) == NUMBERS
    assert proxy.connects == [f"{API_HOST}:{port}"]
