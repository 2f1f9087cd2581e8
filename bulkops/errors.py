"""bulkops' exceptions, drawn once::

    BulkopsError
    ├── UsageError            bad flags, settings, environment or base URL (exit 2);
    │                         also a ValueError, as Python's own checks of arguments
    ├── JobFileError          the job file cannot be read as a job (exit 2); path, line
    ├── RunAborted            the run was stopped as a whole (exit 3); reason
    │   └── Unreachable       no HTTP answer at all: DNS, refused, TLS, proxy; host, cause
    └── ApiError              one Twilio call did not succeed
        ├── TransientError    safe to retry; carries ``retry_after_s``
        │   ├── ThrottledError        429 / 20429
        │   ├── ServerError           500, 502, 503, 504
        │   └── TransportError        no answer: carries a NetworkCause
        └── PermanentError    Twilio's final word: status, code, message
            └── AuthenticationError   401 / 20003: aborts the run

Messages never contain credentials: the client builds them from Twilio's error
body and the request's method and path, never from headers or the full URL.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


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


class UsageError(BulkopsError, ValueError):
    """The command line, environment or configuration is wrong.

    A :class:`ValueError` too, so code that builds a value object (a sandbox
    profile, say) and catches ``ValueError`` catches a setting out of range.
    """


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
    def bad_credentials(cls, code: int | None, *, host: str | None = None) -> RunAborted:
        """The abort for a 401: the same words wherever it happens (``host``: where)."""
        at = f" at {host}" if host else ""
        return cls(
            f"authentication failed{at} (HTTP 401, Twilio code {code}): "
            "check TWILIO_ACCOUNT_SID and the token or API key"
        )


class Unreachable(RunAborted):
    """The API could not be reached at all (DNS, refused, TLS, proxy): one line says why.

    ``host`` is what could not be reached (``host:port``; the proxy's when the proxy
    failed), ``cause`` the :class:`NetworkCause`; the reason names both and what to do.
    """

    def __init__(self, reason: str, *, host: str, cause: NetworkCause) -> None:
        self.host = host
        self.cause = cause
        super().__init__(reason)


class NetworkCause(StrEnum):
    """Why a call got no HTTP answer, as the client saw it.

    The first eight happen before the request is sent (:attr:`unreachable`); a call
    that timed out or lost its connection once connected may have been sent, and a
    write may then have been applied, now or later (:attr:`after_sending`).
    """

    #: The host's name does not resolve (DNS).
    NAME_NOT_RESOLVED = "name_not_resolved"
    #: The host (nothing listening) refused the connection.
    CONNECTION_REFUSED = "connection_refused"
    #: The server's TLS certificate is not signed by a trusted CA.
    CERTIFICATE_NOT_TRUSTED = "certificate_not_trusted"
    #: The server's TLS certificate is trusted but for another name (or address).
    CERTIFICATE_WRONG_HOST = "certificate_wrong_host"
    #: Another TLS failure during the handshake.
    TLS_FAILED = "tls_failed"
    #: The proxy could not be reached, or refused to open the tunnel.
    PROXY_REFUSED = "proxy_refused"
    #: The connection failed for another reason (network unreachable, reset).
    CONNECT_FAILED = "connect_failed"
    #: No connection within the connect timeout (the TCP connect or the TLS
    #: handshake, to the API or the proxy, never finished): nothing was sent.
    CONNECT_TIMED_OUT = "connect_timed_out"
    #: Connected, but no answer within the timeout: the request may have been sent.
    TIMED_OUT = "timed_out"
    #: The connection closed before the answer: the request may have been sent.
    CONNECTION_LOST = "connection_lost"

    @property
    def unreachable(self) -> bool:
        """True when the request never left: the network, not the server, failed."""
        return self not in (NetworkCause.TIMED_OUT, NetworkCause.CONNECTION_LOST)

    @property
    def after_sending(self) -> bool:
        """True when the request may have reached the server (a write may land later)."""
        return not self.unreachable


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
    """No HTTP answer: the connection failed or the request timed out.

    ``cause`` says how (:class:`NetworkCause`); ``maybe_applied`` is True for a
    write (POST, DELETE) that may have been sent before the answer was lost: it
    may be applied now or later, so only reading the sender back settles it.
    """

    def __init__(
        self,
        message: str,
        *,
        cause: NetworkCause = NetworkCause.CONNECTION_LOST,
        maybe_applied: bool = False,
    ) -> None:
        self.cause = cause
        self.maybe_applied = maybe_applied
        super().__init__(None, None, message)


class PermanentError(ApiError):
    """Twilio's final answer for this request; retrying changes nothing."""


class AuthenticationError(PermanentError):
    """401: the credentials are wrong. The whole run stops."""


def io_failure(exc: BaseException) -> str | None:
    """Why a run stopped, if ``exc`` is the world's doing: an ``OSError`` (a full disk…),
    alone or as every leaf of an exception group (raised inside the engine's task
    groups), in its own words; None for anything else, which is a bug to re-raise.
    """
    leaves = list(_leaves(exc))
    if not leaves or not all(isinstance(leaf, OSError) for leaf in leaves):
        return None
    first = leaves[0]
    more = f" (and {len(leaves) - 1} more)" if len(leaves) > 1 else ""
    return f"{type(first).__name__}: {first}{more}"


def _leaves(exc: BaseException) -> list[BaseException]:
    """``exc``, or the exceptions of the groups nested in it, in order."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]
