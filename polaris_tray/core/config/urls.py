"""Server URL validation: one rule set for the command line, settings and the dialog."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

DEFAULT_SERVER_URL = "https://polaris-test-server.onrender.com/api/v1"


class InvalidServerUrl(ValueError):
    """The reason is the message, written for the user."""


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_server_url(url: str) -> str:
    """Return the URL without a trailing slash, or raise InvalidServerUrl saying why.

    Plain http is refused off loopback because the heartbeat carries the miner id.
    """
    text = (url or "").strip()
    if not text:
        raise InvalidServerUrl("The server URL is empty.")
    if any(ch.isspace() for ch in text):
        raise InvalidServerUrl("The server URL must not contain spaces.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidServerUrl(f"The server URL is not valid: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = scheme or "none"
        raise InvalidServerUrl(f"The server URL must start with https:// (scheme given: {shown}).")
    host = parts.hostname or ""
    if not host:
        raise InvalidServerUrl("The server URL has no host name.")
    if parts.username or parts.password:
        raise InvalidServerUrl("The server URL must not contain a user name or password.")
    if parts.query or parts.fragment:
        raise InvalidServerUrl("The server URL must not contain a query (?) or fragment (#).")
    if scheme == "http" and not is_loopback_host(host):
        raise InvalidServerUrl(
            "Plain http:// is only allowed for this computer (localhost); use https:// for "
            f"{host}, so the miner id is never sent unencrypted."
        )
    if port == 0:
        raise InvalidServerUrl("The server URL has port 0.")
    return text.rstrip("/")


def server_host(url: str) -> str:
    """The host part, for the tooltip and for routing lookups; empty when unparseable."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def heartbeat_endpoint(server_url: str) -> str:
    return f"{server_url.rstrip('/')}/heart_beat"
