"""Server URL validation: one rule set for the command line, settings and the dialog."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

DEFAULT_SERVER_URL = "https://polaris-test-server.onrender.com/api/v1"
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")


class InvalidServerUrl(ValueError):
    """The reason is the message, written for the user."""


def is_loopback_host(host: str) -> bool:
    """A literal loopback address, or the name `localhost` itself.

    `*.localhost` is not loopback here: the resolver may send it to DNS, and then the miner id would
    travel in plain http to whoever answers.
    """
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_problem(host: str) -> str | None:
    """Why this host name cannot be looked up (empty or over-long label, bad characters), or None.

    Checked here so a URL like https://a..b/ is refused with a message instead of failing deep inside
    the HTTP stack on every beat.
    """
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return None
    except ValueError:
        pass
    try:
        ascii_host = bare.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return "its host name has an empty label or one longer than 63 characters"
    name = ascii_host[:-1] if ascii_host.endswith(".") else ascii_host
    if not name or len(name) > 253:
        return "its host name is empty or longer than 253 characters"
    for label in name.split("."):
        if not 1 <= len(label) <= 63:
            return "its host name has an empty label or one longer than 63 characters"
        if not _LABEL.fullmatch(label):
            return "its host name contains characters a host name cannot have"
    return None


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
    problem = host_problem(host)
    if problem:
        raise InvalidServerUrl(f"The server URL is not valid: {problem}.")
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
