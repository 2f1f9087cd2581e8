"""bulkops' exceptions, drawn once::

    BulkopsError
    ├── UsageError            bad flags, environment or base URL (exit 2)
    ├── JobFileError          the job file cannot be read as a job (exit 2); path, line
    ├── RunAborted            the run was stopped as a whole (exit 3); reason
    └── ApiError              one Twilio call did not succeed
        ├── TransientError    safe to retry; carries ``retry_after_s``
        │   ├── ThrottledError        429 / 20429
        │   ├── ServerError           500, 502, 503, 504
        │   └── TransportError        connection dropped, refused, timed out
        └── PermanentError    Twilio's final word: status, code, message
            └── AuthenticationError   401 / 20003: aborts the run

Messages never contain credentials: the client builds them from Twilio's error
body and the request's method and path, never from headers or the full URL.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """bulkops' exit statuses, the same for every command."""

    #: Everything asked for holds (every row succeeded, every check held).
    OK = 0
    #: Some row failed, was invalid or was skipped; or a check did not hold.
    FAILED = 1
    #: Usage, configuration or input-file error: nothing was sent.
    USAGE = 2
    #: The run was stopped as a whole (401, a failure limit, an unexpected error).
    ABORTED = 3
    #: Interrupted (SIGINT or SIGTERM): resume it.
    INTERRUPTED = 130
    #: The reader of our output went away (what a shell shows for SIGPIPE).
    BROKEN_PIPE = 141


class BulkopsError(Exception):
    """Base of every error bulkops raises on purpose."""


class UsageError(BulkopsError):
    """The command line, environment or configuration is wrong."""


class JobFileError(BulkopsError):
    """The job file as a whole cannot be used; nothing has been sent."""

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")

    @classmethod
    def unreadable(cls, path: str, exc: OSError, *, what: str = "job file") -> JobFileError:
        """The one error for a file the OS will not give us: missing, a directory, denied.

        ``what`` names what the file should have been (``"job file"``, ``"result log"``).
        """
        if isinstance(exc, FileNotFoundError):
            return cls(path, "no such file")
        if isinstance(exc, IsADirectoryError):
            return cls(path, f"is a directory, not a {what}")
        return cls(path, f"cannot read: {exc.strerror or exc}")


class RunAborted(BulkopsError):
    """The run stopped as a whole, e.g. on bad credentials."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    @classmethod
    def bad_credentials(cls, code: int | None) -> RunAborted:
        """The abort for a 401: the same words wherever it happens."""
        return cls(
            f"authentication failed (HTTP 401, Twilio code {code}): "
            "check TWILIO_ACCOUNT_SID and the token or API key"
        )


class ApiError(BulkopsError):
    """A Twilio call that did not succeed."""

    def __init__(
        self,
        status: int | None,
        code: int | None,
        message: str,
        *,
        retry_after_s: float | None = None,
        account_in_flight: int | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s
        #: The account's requests in flight as the answer's ``Twilio-Concurrent-Requests``
        #: header gave them; None when there was no answer or no header.
        self.account_in_flight = account_in_flight
        super().__init__(f"HTTP {status} / {code}: {message}")


class TransientError(ApiError):
    """The call may succeed if made again later."""


class ThrottledError(TransientError):
    """429: too many concurrent requests; never processed, always safe to retry."""


class ServerError(TransientError):
    """A 5xx answer that Twilio documents as transient."""


class TransportError(TransientError):
    """No HTTP answer: the connection failed or the request timed out."""

    def __init__(self, message: str) -> None:
        super().__init__(None, None, message)


class PermanentError(ApiError):
    """Twilio's final answer for this request; retrying changes nothing."""


class AuthenticationError(PermanentError):
    """401: the credentials are wrong. The whole run stops."""
