"""Credentials from the environment, the base URL, positive numbers and run configuration."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bulkops.config import (
    DEFAULT_BASE_URL,
    MAX_ATTEMPTS,
    Credentials,
    RunConfig,
    api_base_for,
    check_non_negative,
    check_positive,
    positive_arg,
    resolve_base_url,
)
from bulkops.errors import UsageError

ACCOUNT = "AC" + "a" * 32
TOKEN = "tok-sekrit-123"
KEY = "SK" + "b" * 32
SECRET = "api-sekrit-456"


# --- Credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "username", "password"),
    [
        ({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN}, ACCOUNT, TOKEN),
        (
            {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": SECRET},
            KEY,
            SECRET,
        ),
        (
            {
                "TWILIO_ACCOUNT_SID": f" {ACCOUNT} ",
                "TWILIO_AUTH_TOKEN": TOKEN,
                "TWILIO_API_KEY": KEY,
                "TWILIO_API_SECRET": SECRET,
            },
            KEY,
            SECRET,
        ),
    ],
    ids=["auth-token", "api-key", "api-key-wins-over-token"],
)
def test_credentials_from_env(env: dict[str, str], username: str, password: str) -> None:
    """Account SID + token, or API key + secret with the account SID, become Basic credentials."""
    creds = Credentials.from_env(env)
    assert (creds.username, creds.password, creds.account_sid) == (username, password, ACCOUNT)
    assert creds.secrets == (password,)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_AUTH_TOKEN": TOKEN}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": SECRET}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": KEY}, "together"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_SECRET": SECRET}, "together"),
        (
            {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_KEY": KEY},
            "together",
        ),
    ],
    ids=[
        "nothing",
        "no-account",
        "key-without-account",
        "no-token",
        "key-without-secret",
        "secret-without-key",
        "token-and-half-a-key",
    ],
)
def test_credentials_from_env_rejects_incomplete_environment(
    env: dict[str, str], message: str
) -> None:
    """Missing account, token, or half of an API key pair is a UsageError naming what to set."""
    with pytest.raises(UsageError, match=message) as caught:
        Credentials.from_env(env)
    for secret in (TOKEN, SECRET):
        assert secret not in str(caught.value)


def test_credentials_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit mapping, from_env reads the process environment."""
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    assert Credentials.from_env().password == TOKEN


@pytest.mark.parametrize("render", [repr, str, lambda c: f"{c}", lambda c: repr([c])])
@pytest.mark.parametrize(
    "creds",
    [Credentials(ACCOUNT, TOKEN, ACCOUNT), Credentials(KEY, SECRET, ACCOUNT)],
    ids=["token", "api-key"],
)
def test_credentials_repr_never_shows_the_password(creds: Credentials, render: Any) -> None:
    """Every textual form of Credentials shows the username and hides the password."""
    text = render(creds)
    assert creds.password not in text
    assert creds.username in text


# --- resolve_base_url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (
            "https://explicit.example.com",
            {"BULKOPS_BASE_URL": "https://env.example.com", "TWILIO_REGION": "ie1"},
            "https://explicit.example.com",
        ),
        (
            None,
            {"BULKOPS_BASE_URL": "https://env.example.com", "TWILIO_REGION": "ie1"},
            "https://env.example.com",
        ),
        (
            None,
            {"TWILIO_REGION": "ie1", "TWILIO_EDGE": "dublin"},
            "https://messaging.dublin.ie1.twilio.com",
        ),
        (None, {"TWILIO_EDGE": "sydney"}, "https://messaging.sydney.us1.twilio.com"),
        (None, {"TWILIO_REGION": "ie1"}, "https://messaging.ie1.twilio.com"),
        (None, {}, DEFAULT_BASE_URL),
        (None, {"TWILIO_REGION": "", "TWILIO_EDGE": ""}, DEFAULT_BASE_URL),
    ],
    ids=[
        "explicit-wins",
        "env-beats-region",
        "region-and-edge",
        "edge-implies-us1",
        "region-alone",
        "default",
        "empty-region-and-edge",
    ],
)
def test_resolve_base_url_precedence(
    explicit: str | None, env: dict[str, str], expected: str
) -> None:
    """--base-url beats BULKOPS_BASE_URL beats TWILIO_REGION/EDGE beats Twilio's default."""
    assert resolve_base_url(explicit, env) == expected


@pytest.mark.parametrize(
    ("env", "messaging", "api"),
    [
        ({}, "https://messaging.twilio.com", "https://api.twilio.com"),
        (
            {"TWILIO_REGION": "ie1"},
            "https://messaging.ie1.twilio.com",
            "https://api.ie1.twilio.com",
        ),
        (
            {"TWILIO_REGION": "au1", "TWILIO_EDGE": "sydney"},
            "https://messaging.sydney.au1.twilio.com",
            "https://api.sydney.au1.twilio.com",
        ),
        ({"BULKOPS_BASE_URL": "http://127.0.0.1:9"}, "http://127.0.0.1:9", "http://127.0.0.1:9"),
        (
            {"BULKOPS_BASE_URL": "https://proxy.example"},
            "https://proxy.example",
            "https://proxy.example",
        ),
    ],
    ids=["default", "region", "edge-and-region", "loopback", "one-place"],
)
def test_both_apis_hosts_come_from_the_same_settings(
    env: dict[str, str], messaging: str, api: str
) -> None:
    """The 2010 API's host pairs with the Messaging host as Twilio's libraries build them;
    a base URL given outright serves both."""
    base_url = resolve_base_url(None, env)
    assert (base_url, api_base_for(base_url)) == (messaging, api)
    assert RunConfig(base_url=base_url).api_url == api


def test_default_base_url_is_twilio_messaging() -> None:
    """The default API host is Twilio's Messaging API over https."""
    assert DEFAULT_BASE_URL == "https://messaging.twilio.com"


def test_resolve_base_url_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit mapping, resolve_base_url reads the process environment."""
    monkeypatch.setenv("BULKOPS_BASE_URL", "https://from-env.example.com/")
    assert resolve_base_url(None) == "https://from-env.example.com"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.5.5.5",
        "http://localhost:9999",
        "http://LOCALHOST",
        "http://[::1]:8080",
        "https://api.example.com",
        "https://api.example.com/base",
    ],
)
def test_resolve_base_url_accepts_https_and_loopback_http(url: str) -> None:
    """https goes anywhere; plain http is allowed to loopback addresses and localhost."""
    assert resolve_base_url(url, {}) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.example.com", "refusing plain http"),
        ("http://10.0.0.1:8080", "refusing plain http"),
        ("http://128.0.0.1", "refusing plain http"),
        ("http://localhost.example.com", "refusing plain http"),
        ("http://127.0.0.1.nip.io", "refusing plain http"),
        ("http://[::2]", "refusing plain http"),
        ("https://AC123:sekrit@api.example.com", "credentials"),
        ("https://AC123@api.example.com", "credentials"),
        ("http://AC123:sekrit@127.0.0.1", "credentials"),
        ("ftp://api.example.com", "http"),
        ("file:///etc/passwd", "http"),
        ("messaging.twilio.com", "http"),
        ("https://", "host"),
    ],
)
def test_resolve_base_url_refuses_unsafe_urls(url: str, message: str) -> None:
    """Plain http off loopback, embedded credentials and non-http schemes are UsageErrors."""
    with pytest.raises(UsageError, match=message) as caught:
        resolve_base_url(url, {})
    assert "sekrit" not in str(caught.value)


def test_resolve_base_url_checks_the_environment_url_too() -> None:
    """BULKOPS_BASE_URL is held to the same rules as --base-url."""
    with pytest.raises(UsageError, match="refusing plain http"):
        resolve_base_url(None, {"BULKOPS_BASE_URL": "http://api.example.com"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example.com/", "https://api.example.com"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://api.example.com/base//", "https://api.example.com/base"),
    ],
)
def test_resolve_base_url_strips_trailing_slashes(url: str, expected: str) -> None:
    """Trailing slashes are dropped so paths join without a double slash."""
    assert resolve_base_url(url, {}) == expected


# --- check_positive and positive_arg ----------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 0.0, -0.5])
def test_check_positive_refuses_zero_and_negatives(value: float) -> None:
    """Zero or a negative is a UsageError naming the setting and the value."""
    with pytest.raises(UsageError) as caught:
        check_positive("--timeout", value)
    assert str(caught.value) == f"--timeout must be positive, got {value!r}"


@pytest.mark.parametrize("check", [check_positive, check_non_negative])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_the_number_checks_refuse_nan_and_infinity(check: Any, value: float) -> None:
    """NaN and ±infinity are no rate, timeout or wait: a UsageError naming setting and value."""
    with pytest.raises(UsageError) as caught:
        check("--rate", value)
    assert str(caught.value) == f"--rate must be a finite number, got {value!r}"


@pytest.mark.parametrize("value", [0, 0.0, 3, 2.5])
def test_check_non_negative_returns_zero_or_a_positive_value(value: float) -> None:
    """0 (a setting's "none") and positive values come back as they are."""
    assert check_non_negative("--grace", value) is value


@pytest.mark.parametrize("value", [-1, -0.5])
def test_check_non_negative_refuses_negatives(value: float) -> None:
    """A negative is a UsageError naming the setting and the value."""
    with pytest.raises(UsageError) as caught:
        check_non_negative("--grace", value)
    assert str(caught.value) == f"--grace must be 0 or positive, got {value!r}"


@pytest.mark.parametrize("value", [1, 7, 0.001, 2.5])
def test_check_positive_returns_a_positive_value(value: float) -> None:
    """A positive value comes back as it is, so a caller can check and assign in one step."""
    assert check_positive("--concurrency", value) is value


def test_check_positive_caps_with_at_most() -> None:
    """``at_most`` is allowed itself; above it is a UsageError naming the cap and the value."""
    assert check_positive("--max-attempts", 100, at_most=100) == 100
    with pytest.raises(UsageError) as caught:
        check_positive("--max-attempts", 101, at_most=100)
    assert str(caught.value) == "--max-attempts must be at most 100, got 101"


def parse_flag(kind: Any, text: str, **options: Any) -> Any:
    """``--n TEXT`` through a parser whose ``--n`` has ``type=positive_arg(kind, **options)``."""
    parser = argparse.ArgumentParser(prog="prog", exit_on_error=False)
    parser.add_argument("--n", type=positive_arg(kind, **options))
    return parser.parse_args(["--n", text]).n


@pytest.mark.parametrize(
    ("kind", "text", "options", "expected"),
    [(int, "3", {}, 3), (float, "0.25", {}, 0.25), (int, "100", {"at_most": 100}, 100)],
)
def test_positive_arg_parses_positive_numbers(
    kind: Any, text: str, options: dict[str, Any], expected: float
) -> None:
    """The flag's text becomes a number of ``kind``."""
    value = parse_flag(kind, text, **options)
    assert value == expected
    assert type(value) is kind


@pytest.mark.parametrize(
    ("kind", "text", "options", "message"),
    [
        (int, "0", {}, "value must be positive, got 0"),
        (float, "-1.5", {}, "value must be positive, got -1.5"),
        (float, "nan", {}, "value must be a finite number, got nan"),
        (float, "inf", {}, "value must be a finite number, got inf"),
        (int, "101", {"at_most": 100}, "value must be at most 100, got 101"),
        (int, "2.5", {}, "not a whole number: '2.5'"),
        (float, "soon", {}, "not a number: 'soon'"),
    ],
)
def test_positive_arg_refuses_with_argparse_error(
    kind: Any, text: str, options: dict[str, Any], message: str
) -> None:
    """check_positive's refusal, or text that is no number, is argparse's own error for the flag."""
    with pytest.raises(argparse.ArgumentError) as caught:
        parse_flag(kind, text, **options)
    assert str(caught.value) == f"argument --n: {message}"


# --- RunConfig -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("concurrency", 0, "--concurrency"),
        ("concurrency", -4, "--concurrency"),
        ("timeout_s", 0.0, "--timeout"),
        ("timeout_s", -1.0, "--timeout"),
        ("max_attempts", 0, "--max-attempts"),
        ("max_attempts", -1, "--max-attempts"),
        ("max_attempts", MAX_ATTEMPTS + 1, "--max-attempts must be at most 100"),
        ("max_failures", 0, "--max-failures"),
        ("rate_per_s", -0.5, "--rate"),
        ("grace_s", -1.0, "--grace"),
        ("backoff_initial_s", 0.0, "backoff initial"),
        ("backoff_cap_s", -1.0, "backoff cap"),
    ],
)
def test_run_config_rejects_out_of_range_values(field: str, value: float, name: str) -> None:
    """Non-positive concurrency/timeout/attempts/backoff and negative rate are UsageErrors."""
    with pytest.raises(UsageError, match=name) as caught:
        RunConfig(**{field: value})
    assert repr(value) in str(caught.value)


FLOAT_FIELDS = {
    "rate_per_s": "--rate",
    "timeout_s": "--timeout",
    "grace_s": "--grace",
    "max_failure_rate": "--max-failure-rate",
    "backoff_initial_s": "backoff initial wait",
    "backoff_cap_s": "backoff cap",
}


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
@pytest.mark.parametrize("field", FLOAT_FIELDS)
def test_run_config_rejects_nan_and_infinity(field: str, value: float) -> None:
    """No float setting takes NaN or infinity (NaN once made --rate "no limit")."""
    with pytest.raises(UsageError) as caught:
        RunConfig(**{field: value})
    assert str(caught.value).startswith(f"{FLOAT_FIELDS[field]} must be")
    assert str(caught.value).endswith(f"got {value!r}")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_per_s": 0.0},
        {"concurrency": 1, "max_attempts": 1, "timeout_s": 0.001},
        {"max_attempts": MAX_ATTEMPTS},
    ],
    ids=["rate-zero-means-unlimited", "smallest-positive", "most-attempts"],
)
def test_run_config_accepts_valid_values(kwargs: dict[str, Any]) -> None:
    """Defaults, rate 0 (no limit) and the smallest positive values are accepted."""
    config = RunConfig(**kwargs)
    for field, value in kwargs.items():
        assert getattr(config, field) == value


def test_run_config_defaults_are_valid() -> None:
    """RunConfig() builds with its defaults, aimed at Twilio's default host."""
    config = RunConfig()
    assert config.base_url == DEFAULT_BASE_URL
    assert config.default_op is None
