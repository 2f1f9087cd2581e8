"""When no HTTP answer came: aiohttp's exceptions as typed causes, and the TLS context.

:func:`transport_error` maps what aiohttp raised to a
:class:`~bulkops.errors.TransportError` with its :class:`~bulkops.errors.NetworkCause`
(most specific class first, as aiohttp's hierarchy nests them)::

    ClientConnectorCertificateError        certificate_wrong_host (for another name)
                                           certificate_not_trusted (any other)
    ClientSSLError (any other)             tls_failed
    ClientProxyConnectionError             proxy_refused   (cannot connect to the proxy)
    ClientHttpProxyError                   proxy_refused   (the proxy refused the CONNECT)
    ClientConnectorDNSError                name_not_resolved
    ClientConnectorError, refused          connection_refused
    ClientConnectorError, other            connect_failed
    ConnectionTimeoutError                 connect_timed_out (never sent)
    TimeoutError (any other)               timed_out       (may have been sent)
    any other ClientError                  connection_lost (may have been sent)

A connection has a timeout of its own (:func:`connect_timeout_s`, shorter than
the call's), so a connection that never completes (a firewall that drops the
traffic, a host that accepts but never does TLS) is told apart from a request
that got no answer: it was never sent, so a write cannot land later, and it
counts as the network failing (the pre-flight's one-line stop, the outage stop).

:func:`unreachable` words the one line a run stops with when the API cannot be
reached: the host, the cause and what to do. :func:`ssl_context` is the TLS
context of every client: the operating system's trust store (through
``truststore``) plus the run's CA bundle; verification always on.
"""

from __future__ import annotations

import ssl

import aiohttp
import truststore

from ..egress import Egress
from ..errors import NetworkCause, TransportError, Unreachable

_CA_SETTINGS = "--ca-bundle FILE, REQUESTS_CA_BUNDLE or SSL_CERT_FILE"
#: The longest a connection may take (TCP connect, then the TLS handshake; each, to
#: a proxy too), unless the call's own timeout is short (:func:`connect_timeout_s`).
CONNECT_TIMEOUT_S = 10.0
#: OpenSSL's verify codes for a certificate that names another host or address
#: (X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH).
_WRONG_HOST_CODES = (62, 64)
#: What to do, per cause; ``{host}`` and ``{proxy}`` are filled in.
_ADVICE = {
    NetworkCause.CERTIFICATE_NOT_TRUSTED: (
        "its TLS certificate is not trusted ({detail}); if a proxy or firewall inspects "
        f"TLS, give its CA certificate with {_CA_SETTINGS}"
    ),
    NetworkCause.CERTIFICATE_WRONG_HOST: (
        "its TLS certificate is for another name ({detail}); check the host of the base URL "
        "(--base-url, BULKOPS_BASE_URL, TWILIO_REGION and TWILIO_EDGE): a CA bundle will not help"
    ),
    NetworkCause.TLS_FAILED: "the TLS handshake failed ({detail}); check the base URL and proxy",
    NetworkCause.NAME_NOT_RESOLVED: (
        "the name does not resolve; check --base-url, BULKOPS_BASE_URL, TWILIO_REGION and "
        "TWILIO_EDGE, and if direct traffic is blocked, set HTTPS_PROXY or --proxy"
    ),
    NetworkCause.CONNECTION_REFUSED: (
        "connection refused; check the base URL's port, and if direct traffic is blocked, "
        "set HTTPS_PROXY or --proxy"
    ),
    NetworkCause.PROXY_REFUSED: "{detail}; check --proxy / HTTPS_PROXY and NO_PROXY",
    NetworkCause.CONNECT_FAILED: "cannot connect ({detail}); check the network and the base URL",
    NetworkCause.CONNECT_TIMED_OUT: (
        "no connection in time ({detail}); check the base URL and the proxy, and whether "
        "a firewall drops the traffic"
    ),
    NetworkCause.TIMED_OUT: "no answer within the timeout; check the network or raise --timeout",
    NetworkCause.CONNECTION_LOST: "the connection was lost ({detail})",
}


def connect_timeout_s(timeout_s: float) -> float:
    """How long making a connection may take, within a call's ``timeout_s``.

    :data:`CONNECT_TIMEOUT_S`, or half of ``timeout_s`` when that is shorter: it
    must end before the call's own timeout, which would otherwise fire first and
    make a connection that never came look like a request that got no answer.
    """
    return min(CONNECT_TIMEOUT_S, timeout_s / 2)


def ssl_context(egress: Egress) -> ssl.SSLContext:
    """A client TLS context: the OS trust store plus ``egress.ca_bundle``; always verifying.

    Raises :class:`ssl.SSLError` or :class:`OSError` for a bundle that cannot be
    loaded (:func:`bulkops.egress.check_ca_bundle` checks it first).
    """
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if egress.ca_bundle is not None:
        context.load_verify_locations(cafile=egress.ca_bundle)
    return context


def cause_of(exc: BaseException) -> tuple[NetworkCause, str]:
    """The cause of a failed call, and a short detail safe to print (no URL, no header)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return _certificate_cause(exc.certificate_error)
    if isinstance(exc, aiohttp.ClientSSLError):
        return NetworkCause.TLS_FAILED, type(exc).__name__
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return NetworkCause.PROXY_REFUSED, "cannot connect to the proxy"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return NetworkCause.PROXY_REFUSED, f"the proxy refused the tunnel (HTTP {exc.status})"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return NetworkCause.NAME_NOT_RESOLVED, "name not resolved"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return NetworkCause.CONNECTION_REFUSED, "connection refused"
        return NetworkCause.CONNECT_FAILED, exc.os_error.strerror or type(exc.os_error).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return NetworkCause.CONNECT_TIMED_OUT, "the TCP connect or TLS handshake timed out"
    if isinstance(exc, TimeoutError):
        return NetworkCause.TIMED_OUT, "timed out"
    return NetworkCause.CONNECTION_LOST, type(exc).__name__


def _certificate_cause(error: Exception) -> tuple[NetworkCause, str]:
    """A certificate that failed verification: for another name, or not trusted."""
    detail = str(getattr(error, "verify_message", None) or type(error).__name__)
    wrong_host = getattr(error, "verify_code", None) in _WRONG_HOST_CODES
    if wrong_host or "mismatch" in detail.lower():
        return NetworkCause.CERTIFICATE_WRONG_HOST, detail
    return NetworkCause.CERTIFICATE_NOT_TRUSTED, detail


def transport_error(exc: BaseException, *, target: str, write: bool) -> TransportError:
    """The :class:`TransportError` for ``exc``, raised by a call to ``target`` (``METHOD /path``).

    ``write`` (a POST or DELETE) makes an error after sending ``maybe_applied``.
    """
    cause, detail = cause_of(exc)
    return TransportError(
        f"{target}: {detail}", cause=cause, maybe_applied=write and cause.after_sending
    )


def unreachable(error: TransportError, *, host: str, egress: Egress) -> Unreachable:
    """The one-line stop for a call that could not reach ``host`` (``host:port``).

    Names the proxy ``egress`` sends that host's calls through, and names it
    instead of the host when it is the proxy that failed.
    """
    detail = error.message.partition(": ")[2] or error.message
    proxy = egress.proxy_shown if egress.proxy_to(host.rpartition(":")[0]) else None
    where = f"{host} through the proxy {proxy}" if proxy else host
    if error.cause is NetworkCause.PROXY_REFUSED and proxy:
        where = f"{host}: the proxy {proxy}"
    advice = _ADVICE[error.cause].format(detail=detail)
    return Unreachable(f"cannot reach {where}: {advice}", host=host, cause=error.cause)


__all__ = [
    "CONNECT_TIMEOUT_S",
    "cause_of",
    "connect_timeout_s",
    "ssl_context",
    "transport_error",
    "unreachable",
]
