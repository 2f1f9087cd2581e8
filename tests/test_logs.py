"""The event log: JSON lines with dotted event names, levels, and secrets redacted."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bulkops.logs import REDACTED, RedactSecrets, make_logger

SECRET = "tok-123"


def json_events(stream: io.StringIO) -> list[dict[str, Any]]:
    """Each output line parsed as one JSON object."""
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def emit(verbose: bool = False, **fields: Any) -> list[dict[str, Any]]:
    stream = io.StringIO()
    log = make_logger(json_format=True, verbose=verbose, secrets=[SECRET], stream=stream)
    log.info("bulkops.item.retry", **fields)
    return json_events(stream)


def test_json_output_is_one_object_per_line_with_the_dotted_event() -> None:
    """JSON format writes one object per event, with the event name, level and UTC timestamp."""
    stream = io.StringIO()
    log = make_logger(json_format=True, stream=stream)
    log.info("bulkops.run.started", concurrency=16)
    log.warning("bulkops.item.retry", line=7, attempt=2, wait_s=0.5)
    first, second = json_events(stream)
    assert first["event"] == "bulkops.run.started"
    assert (first["level"], first["concurrency"]) == ("info", 16)
    assert second.items() >= {"event": "bulkops.item.retry", "level": "warning", "line": 7}.items()
    assert second["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("fields", "key", "expected"),
    [
        ({"url": f"https://x/{SECRET}/y"}, "url", f"https://x/{REDACTED}/y"),
        ({"reason": f"{SECRET} and {SECRET} again"}, "reason", f"{REDACTED} and {REDACTED} again"),
        ({"auth_token": "anything"}, "auth_token", REDACTED),
        ({"password": "hunter2"}, "password", REDACTED),
        ({"TWILIO_API_SECRET": "s"}, "TWILIO_API_SECRET", REDACTED),
        ({"Authorization": "Basic QUM6dG9r"}, "Authorization", REDACTED),
        ({"token": 12345}, "token", REDACTED),
        ({"line": 7}, "line", 7),
        ({"base_url": "https://messaging.twilio.com"}, "base_url", "https://messaging.twilio.com"),
    ],
    ids=[
        "secret-in-value",
        "secret-twice",
        "auth_token-key",
        "password-key",
        "secret-key-any-case",
        "authorization-key",
        "non-string-under-secret-key",
        "harmless-int",
        "harmless-string",
    ],
)
def test_secrets_are_redacted(fields: dict[str, Any], key: str, expected: Any) -> None:
    """A known secret inside a string, or any value under a secret-named key, is redacted."""
    (event,) = emit(**fields)
    assert event[key] == expected
    assert SECRET not in json.dumps(event)


def test_secret_in_the_event_name_is_redacted() -> None:
    """Even the event text itself is scrubbed of known secrets."""
    stream = io.StringIO()
    make_logger(json_format=True, secrets=[SECRET], stream=stream).error(f"leaked {SECRET}")
    (event,) = json_events(stream)
    assert event["event"] == f"leaked {REDACTED}"


def test_empty_secret_does_not_redact_everything() -> None:
    """An empty secret (e.g. an unset variable) is ignored rather than matching every string."""
    redact = RedactSecrets(["", SECRET])
    assert redact(None, "info", {"event": "bulkops.run.started"}) == {
        "event": "bulkops.run.started"
    }


@pytest.mark.parametrize(("verbose", "events"), [(False, ["info"]), (True, ["debug", "info"])])
def test_verbose_controls_debug_events(verbose: bool, events: list[str]) -> None:
    """Debug events are dropped unless verbose; info events always pass."""
    stream = io.StringIO()
    log = make_logger(json_format=True, verbose=verbose, stream=stream)
    log.debug("bulkops.item.retry", line=2)
    log.info("bulkops.run.finished")
    assert [e["level"] for e in json_events(stream)] == events


def test_console_format_is_plain_text_and_redacted() -> None:
    """The default console format writes readable, uncoloured lines to a non-tty, redacted."""
    stream = io.StringIO()
    log = make_logger(secrets=[SECRET], stream=stream)
    log.info("bulkops.run.started", base_url=f"https://x/{SECRET}")
    text = stream.getvalue()
    assert "bulkops.run.started" in text
    assert REDACTED in text
    assert SECRET not in text
    assert "\x1b[" not in text
