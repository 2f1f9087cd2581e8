"""How calls leave this machine: through which proxy, trusting which extra CA certificates.

Resolved once per run from the flags and the environment, the way Twilio's
helper libraries (through ``requests``) and most HTTP clients read it, for both
hosts a run calls: the Messaging API's and the 2010 API's it pairs with
(:func:`~bulkops.config.api_base_for`; the same host for a sandbox or a custom
base URL):

* **Proxy.** ``--proxy URL``; else, for an ``https://`` API, ``https_proxy`` or
  ``HTTPS_PROXY`` (then ``all_proxy``/``ALL_PROXY``), lower case first as in
  curl and urllib. ``HTTP_PROXY`` applies to ``http://`` URLs only, and bulkops
  sends plain http to loopback alone. ``NO_PROXY``/``no_proxy`` lists hosts,
  domain suffixes (``.example.com`` or ``example.com``), addresses or CIDR
  ranges that go direct, or ``*`` for all. A loopback API is never proxied (as
  Go's ``ProxyFromEnvironment`` does for localhost): a proxy cannot reach this
  machine's loopback. The proxy URL itself may be ``http://`` (the API's TLS
  runs inside the tunnel) or ``https://``.
* **CA bundle.** ``--ca-bundle FILE``; else ``REQUESTS_CA_BUNDLE``; else
  ``SSL_CERT_FILE``: a PEM file of CA certificates trusted in addition to the
  operating system's store (e.g. the CA of a TLS-inspecting proxy).
  Verification is never turned off.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .config import api_base_for, is_loopback_host
from .errors import UsageError


@dataclass(frozen=True, slots=True)
class Egress:
    """The proxy (None: direct) and the extra CA bundle (None: the OS store alone) of a run."""

    #: ``http(s)://[user:password@]host:port`` of the proxy, or None to connect directly.
    proxy_url: str | None = None
    #: Path of a PEM file of CA certificates trusted besides the OS store.
    ca_bundle: str | None = None
    #: Host names reached directly although there is a proxy: of the run's two
    #: hosts, those ``NO_PROXY`` lists (loopback is always direct).
    direct_hosts: frozenset[str] = frozenset()

    def __repr__(self) -> str:  # never let the proxy's password reach a log or a traceback
        return (
            f"Egress(proxy_url={_masked(self.proxy_url)!r}, ca_bundle={self.ca_bundle!r}, "
            f"direct_hosts={self.direct_hosts!r})"
        )

    def proxy_to(self, host: str) -> str | None:
        """The proxy URL for calls to ``host`` (a name or address); None to go direct."""
        host = host.strip("[]").lower()
        if self.proxy_url is None or host in self.direct_hosts or is_loopback_host(host):
            return None
        return self.proxy_url

    @property
    def proxy_shown(self) -> str | None:
        """The proxy as ``host:port``, safe to print: never its credentials."""
        if self.proxy_url is None:
            return None
        parts = urlsplit(self.proxy_url)
        return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def _masked(url: str | None) -> str | None:
    """``url`` with the password of its ``user:password@`` shown as ``***``."""
    if url is None:
        return None
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not at or not colon:
        return url
    return parts._replace(netloc=f"{user}:***@{hostport}").geturl()


def resolve_egress(
    base_url: str,
    *,
    proxy: str | None = None,
    ca_bundle: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Egress:
    """The :class:`Egress` of calls to ``base_url`` and its 2010 API: the flags, else ``env``.

    Raises :class:`UsageError`, naming the flag or variable, for a proxy URL that
    is not ``http(s)://host[:port]`` or a CA bundle that is missing or not PEM.
    """
    env = os.environ if env is None else env
    proxies = {
        (urlsplit(url).hostname or "").lower(): proxy_for(url, explicit=proxy, env=env)
        for url in (base_url, api_base_for(base_url))
    }
    chosen = next((url for url in proxies.values() if url is not None), None)
    direct = {host for host, url in proxies.items() if url is None} if chosen else set()
    return Egress(
        proxy_url=chosen, ca_bundle=_ca_bundle(ca_bundle, env), direct_hosts=frozenset(direct)
    )


def proxy_for(base_url: str, *, explicit: str | None, env: Mapping[str, str]) -> str | None:
    """The proxy URL for ``base_url``, or None to connect directly (see the module docstring)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if is_loopback_host(host):
        return None
    if explicit:
        return _checked_proxy(explicit, "--proxy")
    names = (f"{parts.scheme}_proxy", "all_proxy")
    found = next(
        ((n, env[n]) for name in names for n in (name, name.upper()) if env.get(n, "").strip()),
        None,
    )
    if found is None or bypasses(host, parts.port, _no_proxy(env)):
        return None
    return _checked_proxy(found[1].strip(), found[0])


def _no_proxy(env: Mapping[str, str]) -> str:
    return env.get("no_proxy", "") or env.get("NO_PROXY", "")


def bypasses(host: str, port: int | None, no_proxy: str) -> bool:
    """True when ``no_proxy`` (a ``NO_PROXY`` value) sends ``host``, at ``port``, direct."""
    host = host.strip("[]").lower()
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
        if entry_port and port is not None and entry_port != str(port):
            continue
        name = name.strip("[]").removeprefix("*").removeprefix(".")
        if host == name or host.endswith("." + name) or _in_network(host, name):
            return True
    return False


def _has_port(entry: str) -> bool:
    head, colon, tail = entry.rpartition(":")
    return bool(colon) and tail.isdigit() and (head.endswith("]") or ":" not in head)


def _in_network(host: str, entry: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def _checked_proxy(url: str, source: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else "it"
        raise UsageError(
            f"{source}: {shown} is not an http:// or https:// proxy URL with a host "
            "(socks proxies are not supported)"
        )
    return parts.geturl()


def _ca_bundle(explicit: str | None, env: Mapping[str, str]) -> str | None:
    for source, path in (
        ("--ca-bundle", explicit),
        ("REQUESTS_CA_BUNDLE", env.get("REQUESTS_CA_BUNDLE")),
        ("SSL_CERT_FILE", env.get("SSL_CERT_FILE")),
    ):
        if path:
            check_ca_bundle(path, source)
            return path
    return None


def check_ca_bundle(path: str, source: str) -> None:
    """Raise :class:`UsageError` naming ``source`` unless ``path`` is a readable PEM CA bundle."""
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise UsageError(f"{source} {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{source} {path}: cannot read: {exc.strerror or exc}") from None
    except ssl.SSLError:
        raise UsageError(f"{source} {path}: not a PEM file of CA certificates") from None


__all__ = ["Egress", "bypasses", "check_ca_bundle", "proxy_for", "resolve_egress"]
