"""The event log: structlog with dotted event names, on stderr, secrets redacted.

The logger is built per run and passed in; nothing here configures structlog
globally.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import FilteringBoundLogger, Processor

REDACTED = "[redacted]"
_SECRET_KEYS = ("token", "secret", "password", "authorization", "auth")


class RedactSecrets:
    """A structlog processor that blanks known secret values and secret-named keys."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(s for s in secrets if s)

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event.items():
            if any(part in key.lower() for part in _SECRET_KEYS):
                event[key] = REDACTED
            elif isinstance(value, str) and self._secrets:
                event[key] = self.scrub(value)
        return event

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


def make_logger(
    *,
    json_format: bool = False,
    verbose: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> FilteringBoundLogger:
    """A logger writing to ``stream`` (stderr): human console lines, or JSON lines."""
    stream = stream or sys.stderr
    renderer: Processor
    if json_format:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
    processors: list[Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        RedactSecrets(secrets),
        renderer,
    ]
    level = logging.DEBUG if verbose else logging.INFO
    return structlog.wrap_logger(  # type: ignore[no-any-return]
        structlog.PrintLogger(stream),
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
