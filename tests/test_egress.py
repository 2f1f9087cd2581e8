"""Which proxy and which CA bundle a run uses, read as Twilio's libraries read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.config import RunConfig
from bulkops.egress import Egress, bypasses, proxy_for, resolve_egress
from bulkops.errors import UsageError

API = "https://messaging.twilio.com"


@pytest.mark.parametrize(
    ("env", "explicit", "expected"),
    [
        ({"HTTPS_PROXY": "http://p:3128"}, None, "http://p:3128"),
        ({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, None, "http://lower:1"),
        ({"HTTPS_PROXY": "http://p:3128"}, "http://flag:8080", "http://flag:8080"),
        ({"HTTP_PROXY": "http://p:3128"}, None, None),  # for http:// URLs only
        ({"ALL_PROXY": "http://all:9"}, None, "http://all:9"),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "twilio.com"}, None, None),
        ({"HTTPS_PROXY": "http://p:3128", "no_proxy": ".twilio.com"}, None, None),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "*"}, None, None),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "example.com"}, None, "http://p:3128"),
        ({}, None, None),
    ],
    ids=["upper", "lower-wins", "flag-wins", "http-proxy-only", "all-proxy", "no-proxy-domain",
         "no-proxy-dot", "no-proxy-star", "no-proxy-other", "none"],
)  # fmt: skip
def test_the_proxy_comes_from_the_flag_else_the_environment(
    env: dict[str, str], explicit: str | None, expected: str | None
) -> None:
    """Scheme-matched variables, lower case first, NO_PROXY honoured, --proxy over all."""
    assert proxy_for(API, explicit=explicit, env=env) == expected


def test_loopback_is_never_proxied() -> None:
    """A proxy cannot reach this machine's loopback: the sandbox is always direct."""
    env = {"HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://p:1"}
    assert proxy_for("http://127.0.0.1:8080", explicit="http://p:1", env=env) is None


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "expected"),
    [
        ("api.example.com", 443, "example.com:443", True),
        ("api.example.com", 443, "example.com:8443", False),
        ("10.1.2.3", 443, "10.0.0.0/8", True),
        ("notexample.com", 443, "example.com", False),
    ],
)
def test_no_proxy_entries(host: str, port: int, no_proxy: str, expected: bool) -> None:
    """Ports, CIDR ranges and whole labels only."""
    assert bypasses(host, port, no_proxy) is expected


def test_a_socks_proxy_is_refused_naming_the_variable() -> None:
    """Only http(s) proxies; the message says where the URL came from."""
    with pytest.raises(UsageError, match="HTTPS_PROXY: socks5://p is not an http"):
        proxy_for(API, explicit=None, env={"HTTPS_PROXY": "socks5://p:1080"})


def test_the_ca_bundle_comes_from_the_flag_then_requests_then_ssl_cert_file(
    tmp_path: Path,
) -> None:
    """--ca-bundle, else REQUESTS_CA_BUNDLE, else SSL_CERT_FILE; a missing file is named."""
    import trustme

    pem = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(pem))
    env = {"REQUESTS_CA_BUNDLE": str(pem), "SSL_CERT_FILE": "/nope.pem"}
    assert resolve_egress(API, env=env) == Egress(ca_bundle=str(pem))
    assert resolve_egress(API, ca_bundle=str(pem), env={}) == Egress(ca_bundle=str(pem))
    with pytest.raises(UsageError, match=r"SSL_CERT_FILE /nope\.pem: no such file"):
        resolve_egress(API, env={"SSL_CERT_FILE": "/nope.pem"})


def test_the_proxy_is_shown_without_its_credentials() -> None:
    """A proxy password never reaches a message."""
    egress = Egress(proxy_url="http://user:s3cret@proxy.corp:3128")
    assert egress.proxy_shown == "proxy.corp:3128"


@pytest.mark.parametrize(
    "proxy_url",
    ["http://user:s3cret@proxy.corp:3128", "https://user:s3cret@[::1]:3128/", "http://:s3cret@p"],
    ids=["user-and-password", "ipv6", "password-only"],
)
def test_the_proxy_password_is_masked_in_the_repr_and_the_run_config_s(proxy_url: str) -> None:
    """As Credentials do: a repr (a log line, a traceback's locals) shows *** for it."""
    egress = Egress(proxy_url=proxy_url, ca_bundle="/etc/ca.pem")
    config = RunConfig(egress=egress)
    for shown in (repr(egress), repr(config), str(config)):
        assert "s3cret" not in shown
        assert ":***@" in shown
    assert "/etc/ca.pem" in repr(egress)
    assert egress.proxy_url == proxy_url  # the value itself is untouched


def test_a_proxy_without_a_password_is_shown_as_it_is() -> None:
    """Nothing to mask: the repr names the proxy plainly."""
    assert "proxy_url='http://user@p:1'" in repr(Egress(proxy_url="http://user@p:1"))


@pytest.mark.parametrize(
    ("base_url", "env", "messaging", "api"),
    [
        (API, {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128", "http://p:3128"),
        (API, {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "api.twilio.com"}, "http://p:3128",
         None),
        (API, {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "messaging.twilio.com"}, None,
         "http://p:3128"),
        ("https://messaging.dublin.ie1.twilio.com", {"HTTPS_PROXY": "http://p:1"}, "http://p:1",
         "http://p:1"),
        (API, {}, None, None),
    ],
    ids=["both", "no-proxy-api", "no-proxy-messaging", "region-edge", "none"],
)  # fmt: skip
def test_the_2010_api_host_is_judged_by_the_same_rules(
    base_url: str, env: dict[str, str], messaging: str | None, api: str | None
) -> None:
    """Numbers are resolved at api.{edge}.{region}.twilio.com: the same proxy, NO_PROXY per host."""
    from urllib.parse import urlsplit

    from bulkops.config import api_base_for

    egress = resolve_egress(base_url, env=env)
    assert egress.proxy_to(urlsplit(base_url).hostname or "") == messaging
    assert egress.proxy_to(urlsplit(api_base_for(base_url)).hostname or "") == api


def test_a_hand_made_egress_proxies_every_host_but_loopback() -> None:
    """Egress(proxy_url=…) alone: both APIs' hosts through it; loopback never."""
    egress = Egress(proxy_url="http://p:1")
    assert egress.proxy_to("api.twilio.com") == "http://p:1"
    assert egress.proxy_to("messaging.twilio.com") == "http://p:1"
    assert egress.proxy_to("127.0.0.1") is None
