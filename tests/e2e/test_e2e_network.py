"""Real networks over loopback: a corporate proxy, a private CA, names that do not resolve.

The sandbox serves HTTPS with a certificate for ``HOST`` from a CA made by
``trustme`` at test time. ``HOST`` does not resolve (``.invalid``, RFC 6761):
only the local CONNECT proxy (:mod:`proxy_support`) knows where it is, as
behind a corporate proxy where direct traffic goes nowhere.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import trustme
from e2e_support import fast_config, run_job, write_job
from proxy_support import ConnectProxy
from support import mg, sc, silent_listener

from bulkops.egress import resolve_egress
from bulkops.sandbox import Sandbox, World

HOST = "messaging.bulkops.invalid"
ROWS = 6


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A private CA, as a TLS-inspecting proxy or an internal gateway has."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    """The CA's certificate as a PEM file, as REQUESTS_CA_BUNDLE would name it."""
    path = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def plan_and_world() -> tuple[dict[str, str], World]:
    plan = {sc(i): mg(1) for i in range(1, ROWS + 1)}
    world = World()
    world.seed(service_sids=[mg(1)], short_code_sids=plan)
    return plan, world


@pytest_asyncio.fixture
async def tls_sandbox(ca: trustme.CA) -> AsyncIterator[Sandbox]:
    """The sandbox over HTTPS with a certificate for ``HOST`` (and 127.0.0.1) signed by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "127.0.0.1").configure_cert(context)
    _, world = plan_and_world()
    async with Sandbox(world=world, tls=context) as sandbox:
        yield sandbox


def clean_env(**variables: str) -> dict[str, str]:
    """An environment with only ``variables``: no CA bundle or proxy of the test machine."""
    return dict(variables)


@pytest.mark.asyncio
async def test_a_run_behind_a_proxy_with_a_corporate_ca_succeeds(
    tmp_path: Path, results: Path, tls_sandbox: Sandbox, ca_file: str
) -> None:
    """HTTPS_PROXY and REQUESTS_CA_BUNDLE, read as Twilio's libraries read them: every row lands."""
    plan, _ = plan_and_world()
    job = write_job(tmp_path / "job.csv", [("attach", m, s) for s, m in plan.items()])
    async with ConnectProxy({HOST: tls_sandbox.port}) as proxy:
        base_url = f"https://{HOST}:{tls_sandbox.port}"
        env = clean_env(HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=ca_file, NO_PROXY="localhost")
        config = fast_config(base_url, egress=resolve_egress(base_url, env=env))
        run = await run_job(tls_sandbox, job, results, config)

    assert run.reached
    assert [r["outcome"] for r in run.records] == ["succeeded"] * ROWS
    assert {tls_sandbox.world.senders[s].service_sid for s in plan} == {mg(1)}
    assert proxy.connects
    assert set(proxy.connects) == {f"{HOST}:{tls_sandbox.port}"}
    # The proxy sees where, never who: no Authorization, no Proxy-Authorization, no token.
    seen = "\n".join(proxy.connect_headers)
    assert proxy.connect_headers
    assert "authorization" not in seen.lower()
    assert tls_sandbox.auth_token not in seen


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        pytest.param(
            {"REQUESTS_CA_BUNDLE": ""},
            "its TLS certificate is not trusted (",
            id="certificate-not-trusted",
        ),
        pytest.param(
            {"NO_PROXY": ".bulkops.invalid"},
            "the name does not resolve; check --base-url",
            id="no-proxy-goes-direct-and-the-name-does-not-resolve",
        ),
    ],
)
@pytest.mark.asyncio
async def test_an_unreachable_api_stops_before_anything_is_sent(  # noqa: PLR0913 - fixtures
    tmp_path: Path,
    results: Path,
    tls_sandbox: Sandbox,
    ca_file: str,
    variables: dict[str, str],
    expected: str,
    invalid_names_never_leave_the_machine: list[str],
) -> None:
    """One read, not retried; one line naming the host, the cause and what to do; no record."""
    plan, _ = plan_and_world()
    job = write_job(tmp_path / "job.csv", [("attach", m, s) for s, m in plan.items()])
    async with ConnectProxy({HOST: tls_sandbox.port}) as proxy:
        base_url = f"https://{HOST}:{tls_sandbox.port}"
        env = clean_env(HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=ca_file) | variables
        env = {k: v for k, v in env.items() if v}
        config = fast_config(base_url, egress=resolve_egress(base_url, env=env))
        run = await run_job(tls_sandbox, job, results, config)

    assert not run.reached
    assert run.aborted is not None
    assert run.aborted.startswith(f"cannot reach {HOST}:{tls_sandbox.port}")
    assert expected in run.aborted
    assert "\n" not in run.aborted
    assert run.records == []
    assert not results.exists()  # noqa: ASYNC240 - after the run, a one-off check
    # Straight to the host means a lookup, refused here (never sent to a DNS server).
    direct = "NO_PROXY" in variables
    assert bool(invalid_names_never_leave_the_machine) == direct
    assert tls_sandbox.stats.by_method["POST"] == 0


@pytest.mark.asyncio
async def test_a_certificate_for_another_name_says_to_check_the_host(
    tmp_path: Path, results: Path, tls_sandbox: Sandbox, ca_file: str
) -> None:
    """A trusted CA, but the certificate names another host: the line says to check the
    base URL's host, not to give a CA certificate (which would not help)."""
    job = write_job(tmp_path / "job.csv", [("attach", mg(1), sc(1))])
    base_url = f"https://localhost:{tls_sandbox.port}"  # the certificate is for HOST, 127.0.0.1
    egress = resolve_egress(base_url, ca_bundle=ca_file, env={})
    run = await run_job(tls_sandbox, job, results, fast_config(base_url, egress=egress))

    assert not run.reached
    assert run.aborted is not None
    assert run.aborted.startswith(
        f"cannot reach localhost:{tls_sandbox.port}: its TLS certificate is for another name ("
    )
    assert "check the host of the base URL" in run.aborted
    assert "CA certificate" not in run.aborted
    assert run.records == []


@pytest.mark.asyncio
async def test_a_proxy_that_refuses_the_host_is_named(
    tmp_path: Path, results: Path, tls_sandbox: Sandbox, ca_file: str
) -> None:
    """The proxy answers 403 to the CONNECT: the line names the proxy, not the network."""
    plan, _ = plan_and_world()
    job = write_job(tmp_path / "job.csv", [("attach", m, s) for s, m in plan.items()])
    async with ConnectProxy({}) as proxy:
        base_url = f"https://{HOST}:{tls_sandbox.port}"
        egress = resolve_egress(base_url, proxy=proxy.url, ca_bundle=ca_file, env={})
        run = await run_job(tls_sandbox, job, results, fast_config(base_url, egress=egress))
        shown = proxy.url.removeprefix("http://")

    assert not run.reached
    assert run.aborted == (
        f"cannot reach {HOST}:{tls_sandbox.port}: the proxy {shown}: "
        "the proxy refused the tunnel (HTTP 403); check --proxy / HTTPS_PROXY and NO_PROXY"
    )
    assert run.records == []


@pytest.mark.asyncio
async def test_a_refused_connection_stops_at_once(
    tmp_path: Path, results: Path, unused_tcp_port: int
) -> None:
    """Nothing listens at the base URL: one line, exit 3, no row recorded as failed."""
    job = write_job(tmp_path / "job.csv", [("attach", mg(1), sc(1))])
    async with Sandbox() as sandbox:  # only for its credentials; the run goes elsewhere
        config = fast_config(f"http://127.0.0.1:{unused_tcp_port}")
        run = await run_job(sandbox, job, results, config)
    assert not run.reached
    assert run.aborted is not None
    assert run.aborted.startswith(f"cannot reach 127.0.0.1:{unused_tcp_port}: connection refused")
    assert run.records == []


@pytest.mark.asyncio
async def test_a_host_that_accepts_but_never_does_tls_stops_at_once(
    tmp_path: Path, results: Path
) -> None:
    """The connection never completes (TCP accepted, no TLS handshake): never sent, so the
    pre-flight read is not retried; one line, no record, one connection made."""
    job = write_job(tmp_path / "job.csv", [("attach", mg(1), sc(1))])
    async with Sandbox() as sandbox, silent_listener() as (port, accepted):
        config = fast_config(f"https://127.0.0.1:{port}", timeout_s=0.4, max_attempts=6)
        run = await run_job(sandbox, job, results, config)
        connections = len(accepted)
    assert not run.reached
    assert run.aborted is not None
    assert run.aborted.startswith(f"cannot reach 127.0.0.1:{port}: no connection in time (")
    assert "\n" not in run.aborted
    assert run.records == []
    assert connections == 1


def test_the_cli_prints_one_line_and_exits_3_without_the_ca(
    tmp_path: Path,
    ca: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``bulkops run`` against HTTPS signed by an unknown CA: exit 3, one stderr line, no log.

    Given the CA with ``--ca-bundle``, the same run succeeds.
    """
    from bulkops.commands.cli import main
    from bulkops.sandbox import SandboxThread

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    plan, world = plan_and_world()
    job = write_job(tmp_path / "job.csv", [("attach", m, s) for s, m in plan.items()])
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SandboxThread(world=world, tls=context) as sb:
        for name, value in sb.env().items():
            monkeypatch.setenv(name, value)
        results = str(tmp_path / "r.jsonl")
        status = main(["run", str(job), "--results", results, "-q"])
        err = capsys.readouterr().err
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        trusted = main(["run", str(job), "--results", results, "-q", "--ca-bundle", str(ca_file)])

    assert status == 3
    (line,) = err.splitlines()
    assert line.startswith(f"bulkops: error: cannot reach 127.0.0.1:{sb.sandbox.port}: ")
    assert "its TLS certificate is not trusted" in line
    assert "--ca-bundle FILE, REQUESTS_CA_BUNDLE or SSL_CERT_FILE" in line
    assert trusted == 0
    assert {world.senders[s].service_sid for s in plan} == {mg(1)}
