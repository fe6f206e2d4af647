"""The proxy a heartbeat goes through, read once from the environment as users configure it.

HTTPS_PROXY / https_proxy (then ALL_PROXY / all_proxy) with NO_PROXY honoured, as requests and curl
read them; none for a server on this machine. Only HTTP proxies that tunnel with CONNECT are supported:
a SOCKS proxy is refused up front with a sentence saying what to set instead (requests would otherwise
fail on every beat with "Missing dependencies for SOCKS support"). A proxy URL may carry credentials:
they go to the proxy and nowhere else; `shown` and `scrub` keep them out of every message and log.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import requests

from polaris_tray.core.config.urls import is_loopback_host, server_host

_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")
_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


class ProxyConfigError(ValueError):
    """The environment names a proxy this agent cannot use; the message says what to set instead."""


@dataclass(frozen=True)
class Proxy:
    url: str  # as given, credentials included: for urllib3 only
    shown: str  # host:port, never credentials

    @property
    def secrets(self) -> tuple[str, ...]:
        """The parts of the URL no message may contain."""
        parts = urlsplit(self.url)
        found = [self.url]
        if parts.password:
            found += [parts.password, unquote(parts.password), f"{parts.username}:{parts.password}"]
        return tuple(s for s in found if len(s) >= 2)


def proxy_for(endpoint: str) -> Proxy | None:
    """The proxy the environment names for endpoint, or None (raises ProxyConfigError for SOCKS)."""
    if is_loopback_host(server_host(endpoint)):
        return None
    try:
        proxies = requests.utils.get_environ_proxies(endpoint)
    except ValueError:
        return None
    url = requests.utils.select_proxy(endpoint, proxies)
    if not url:
        return None
    if "://" not in url:
        url = f"http://{url}"
    scheme = url.split("://", 1)[0].lower()
    shown = shown_address(url)
    if scheme.startswith("socks"):
        names = [n for n in _VARIABLES if _env_equals(n, url)] or ["the proxy variables"]
        raise ProxyConfigError(
            f"SOCKS proxies are not supported ({names[0]} names {scheme}://{shown}): set HTTPS_PROXY to an "
            "HTTP proxy that allows CONNECT (http://host:port), or add the server to NO_PROXY."
        )
    if scheme not in ("http", "https"):
        raise ProxyConfigError(
            f"The proxy {shown} has the scheme {scheme}://: use http://host:port (an HTTP proxy that "
            "allows CONNECT)."
        )
    return Proxy(url, shown)


def shown_address(url: str) -> str:
    """host:port of a proxy URL, without credentials (port 80/443 filled in as urllib3 would)."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = parts.hostname or "?"
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "(unparseable proxy URL)"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def scrub(text: str, proxy: Proxy | None) -> str:
    """The text without any user:password@ part and without the proxy's credentials."""
    text = _USERINFO.sub("***@", text)
    if proxy is not None:
        for secret in sorted(proxy.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
    return text


def _env_equals(name: str, url: str) -> bool:
    value = os.environ.get(name, "")
    return bool(value) and url in (value, f"http://{value}")
