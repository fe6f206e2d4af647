"""The links between this machine and the orchestrator, each turned into one line: DNS, proxy, TCP, TLS and
trust, HTTP. Each function takes what the link before it produced, and the walk's Deadline."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from polaris_tray.core.config.urls import is_loopback_host
from polaris_tray.core.doctor import probes
from polaris_tray.core.doctor.report import Check, fail, ok, warn
from polaris_tray.core.storage.redact import clean

DNS, PROXY, TCP, TLS, HTTP = "DNS", "Proxy", "TCP", "TLS and trust", "HTTP"
DNS_S, CONNECT_S, TLS_S, HTTP_S = 3.0, 3.0, 3.0, 4.0
CERT_WARN_DAYS = 14
_PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
_NOT_HTTPS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST")


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


def check_dns(
    host: str, port: int, deadline: probes.Deadline, proxied: bool
) -> tuple[Check, list[tuple[int, str]]]:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        return ok(DNS, f"{host} is an address: no lookup needed"), [(family, str(address))]
    except ValueError:
        pass
    bound = deadline.left(DNS_S)
    started = time.monotonic()
    soft = " (the proxy looks the name up itself, so this may not matter)" if proxied else ""
    try:
        found = probes.resolve(host, port, bound)
    except probes.StepTimeout:
        text = f"no answer for {host} within {bound:g} s: the name server is silent{soft}"
        fix = "check the DNS servers (/etc/resolv.conf, your router or VPN); try `getent hosts " + host + "`"
        return (warn(DNS, text, fix) if proxied else fail(DNS, text, fix)), []
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        text = f"{host} does not resolve ({why}){soft}"
        fix = "check the host name in the server URL; if it is right, check your DNS servers"
        return (warn(DNS, text, fix) if proxied else fail(DNS, text, fix)), []
    shown = ", ".join(addr for _f, addr in found[:4]) + (" …" if len(found) > 4 else "")
    return ok(DNS, f"{host} → {shown} ({_ms(started)})"), found


def select_proxy(endpoint: str, environ: Mapping[str, str]) -> str | None:
    """The proxy the heartbeat client would use for this URL: none for this computer, else the
    environment's (HTTPS_PROXY, ALL_PROXY; NO_PROXY honoured), as requests picks it."""
    host = urlsplit(endpoint).hostname or ""
    if is_loopback_host(host):
        return None
    import requests.utils

    saved = dict(os.environ)
    try:  # requests reads os.environ; the doctor may be handed another environment (tests, the GUI)
        if environ is not os.environ:
            os.environ.clear()
            os.environ.update(environ)
        proxies = requests.utils.get_environ_proxies(endpoint)
    finally:
        if environ is not os.environ:
            os.environ.clear()
            os.environ.update(saved)
    return requests.utils.select_proxy(endpoint, proxies) or None


def shown_proxy(proxy: str, environ: Mapping[str, str]) -> str:
    parts = urlsplit(proxy)
    netloc = parts.netloc.rpartition("@")[2]
    safe = f"{parts.scheme}://{'…@' if '@' in parts.netloc else ''}{netloc}"
    source = next((name for name in _PROXY_VARS if environ.get(name) == proxy), "the environment")
    return f"{safe} (from {source})"


def check_proxy(
    proxy: str | None, host: str, port: int, deadline: probes.Deadline, environ: Mapping[str, str]
) -> tuple[Check, socket.socket | None]:
    """The tunnel through the proxy, when one is selected: the socket the TLS step then uses."""
    if proxy is None:
        if is_loopback_host(host):
            return ok(PROXY, "none: the server is on this computer (proxies are never used for it)"), None
        return ok(PROXY, "none: no HTTPS_PROXY or ALL_PROXY applies to this URL (direct connection)"), None
    named = shown_proxy(proxy, environ)
    parts = urlsplit(proxy)
    if parts.scheme not in ("http", ""):
        return warn(PROXY, f"{named}: a {parts.scheme} proxy, not checked by the doctor"), None
    fix = "start the proxy or correct that variable; if this server needs no proxy, add its name to NO_PROXY"
    try:
        found = probes.resolve(parts.hostname or "", parts.port or 8080, deadline.left(DNS_S))
        connected = probes.connect_all(
            probes.pick_addresses(found), parts.port or 8080, deadline.left(CONNECT_S)
        )
    except (probes.StepTimeout, OSError, UnicodeError) as exc:
        return fail(PROXY, f"{named}: its name does not resolve ({exc})", fix), None
    if connected.sock is None:
        results = {a.result for a in connected.attempts}
        why = (
            "refused the connection"
            if results == {"refused"}
            else f"cannot be reached ({', '.join(results)})"
        )
        return fail(PROXY, f"{named} {why}", fix), None
    started = time.monotonic()
    try:
        code = probes.proxy_connect(connected.sock, proxy, host, port, deadline.left(CONNECT_S))
    except (probes.StepTimeout, OSError, ValueError) as exc:
        connected.sock.close()
        return fail(PROXY, f"{named} accepted the connection but did not open a tunnel ({exc})", fix), None
    if code != 200:
        connected.sock.close()
        extra = " (it wants a user name and password in the proxy URL)" if code == 407 else ""
        return fail(PROXY, f"{named} refused to tunnel to {host}:{port}: HTTP {code}{extra}", fix), None
    return ok(PROXY, f"{named} opened a tunnel to {host}:{port} ({_ms(started)})"), connected.sock


def check_tcp(
    addresses: list[tuple[int, str]], port: int, deadline: probes.Deadline
) -> tuple[Check, socket.socket | None]:
    bound = deadline.left(CONNECT_S)
    connected = probes.connect_all(probes.pick_addresses(addresses), port, bound)
    parts = [
        f"{probes.family_name(a.family)} {a.address} {a.result}"
        + (f" ({a.ms:.0f} ms)" if a.result == "connected" else "")
        for a in connected.attempts
    ]
    text = f"port {port}: " + "; ".join(parts)
    if connected.sock is None:
        results = {a.result for a in connected.attempts}
        if results == {"refused"}:
            return fail(
                TCP, text, f"nothing listens on port {port}: is the server up, and is the port right?"
            ), None
        return fail(
            TCP, text, "a firewall or the network drops the connection; check the port and your network"
        ), None
    first = connected.attempts[0] if connected.attempts else None
    if first is not None and first.result != "connected":
        family = probes.family_name(first.family)
        fix = f"{family} is tried first and fails, which slows every beat; fix that route"
        return warn(TCP, text, fix), connected.sock
    return ok(TCP, text), connected.sock


@dataclass(frozen=True)
class Trust:
    what: str  # in words, for the line
    cafile: str | None  # None: the default store of the context


def trust_in_use(environ: Mapping[str, str]) -> Trust:
    """The CA bundle the heartbeat client verifies with: REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else certifi's
    bundle (requests' own default)."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if environ.get(name):
            return Trust(f"{name}={environ[name]}", environ[name])
    try:
        import certifi

        return Trust(f"certifi's bundle {certifi.where()}", certifi.where())
    except ImportError:
        return Trust("the system's default trust store", None)


def _name(cert: dict, key: str) -> str:
    for rdn in cert.get(key, ()):
        for name, value in rdn:
            if name == "commonName":
                return value
    for rdn in cert.get(key, ()):
        for name, value in rdn:
            if name == "organizationName":
                return value
    return "?"


def check_tls(
    sock: socket.socket, host: str, port: int, deadline: probes.Deadline, *, trust: Trust, now_wall: float
) -> tuple[Check, ssl.SSLSocket | None]:
    bound = deadline.left(TLS_S)
    try:
        context = ssl.create_default_context(cafile=trust.cafile)
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        return fail(
            TLS,
            f"the trust store {trust.what} cannot be read ({exc})",
            "point that variable at a CA bundle that exists",
        ), None
    started = time.monotonic()
    try:
        wrapped = probes.tls_wrap(sock, host, context, bound)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        return _verify_failure(exc, host, trust), None
    except ssl.SSLError as exc:
        sock.close()
        text = str(exc)
        if any(mark in text for mark in _NOT_HTTPS):
            return fail(
                TLS,
                f"this server does not speak HTTPS on port {port} (it answered in plain HTTP)",
                "did you mean http://? (allowed only for this computer) Otherwise use its HTTPS port",
            ), None
        return fail(
            TLS, f"the TLS handshake failed: {clean(text, limit=160)}", "check the server URL and port"
        ), None
    except TimeoutError:
        sock.close()
        return fail(
            TLS, f"no TLS handshake within {bound:g} s", "the port may not be an HTTPS port; check the URL"
        ), None
    except OSError as exc:
        sock.close()
        return fail(
            TLS,
            f"the connection broke during the TLS handshake ({exc.strerror or exc})",
            "check the port and any proxy or firewall in the way",
        ), None
    cert = wrapped.getpeercert() or {}
    not_after = cert.get("notAfter")
    expires = ssl.cert_time_to_seconds(not_after) if isinstance(not_after, str) else None
    until = datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%d") if expires else "?"
    text = (
        f"{wrapped.version()} to {_name(cert, 'subject')}, issued by {_name(cert, 'issuer')}, valid until "
        f"{until} ({_ms(started)}); trust: {trust.what}"
    )
    if expires is not None and expires - now_wall < CERT_WARN_DAYS * 86400:
        return warn(TLS, text, "the certificate expires soon: tell the orchestrator's operators"), wrapped
    return ok(TLS, text), wrapped


def _verify_failure(exc: ssl.SSLCertVerificationError, host: str, trust: Trust) -> Check:
    message = exc.verify_message or str(exc)
    if "expired" in message:
        return fail(
            TLS,
            f"the server's certificate has expired (trust: {trust.what})",
            "check this computer's clock; if it is right, the server's operators must renew the certificate",
        )
    if "mismatch" in message or "doesn't match" in message:
        return fail(
            TLS, f"the server's certificate is not for {host}", "check the host name in the server URL"
        )
    return fail(
        TLS,
        f"the server's certificate is not trusted: {message} (trust: {trust.what})",
        "if your network inspects TLS (a company proxy), add its CA to the system trust store "
        "(update-ca-certificates) or point REQUESTS_CA_BUNDLE at a bundle that holds it",
    )


@dataclass(frozen=True)
class HttpFinding:
    code: int | None = None
    date: str | None = None  # the server's Date header, for the clock's line
    no_endpoint: bool = False  # 404 Not Found: the URL's path is wrong


def check_http(sock, endpoint: str, deadline: probes.Deadline, user_agent: str) -> tuple[Check, HttpFinding]:
    """A GET to the heartbeat endpoint (no heartbeat is sent): FastAPI answers 405 where the POST route
    exists and 404 Not Found where the path is wrong."""
    parts = urlsplit(endpoint)
    host, port = probes.host_port(endpoint)
    end = time.monotonic() + deadline.left(HTTP_S)
    started = time.monotonic()
    try:
        code, reason, headers, body = probes.http_get(
            sock, host, port, parts.path, end=end, user_agent=user_agent
        )
    except probes.StepTimeout:
        return fail(
            HTTP,
            f"no reply from {endpoint} within {HTTP_S:g} s",
            "the server is overloaded or a middlebox holds the request; try again later",
        ), HttpFinding()
    except ValueError:
        return fail(HTTP, "the reply is not HTTP", "check the server URL's port"), HttpFinding()
    except OSError as exc:
        return fail(
            HTTP,
            f"the connection broke before a reply ({exc.strerror or exc})",
            "try again; if it lasts, check any proxy or firewall",
        ), HttpFinding()
    finally:
        sock.close()
    said = _detail(body) or reason
    date = headers.get("date")
    took = _ms(started)
    if code == 404:
        base = endpoint.rsplit("/heart_beat", 1)[0]
        fix = "check the server URL: it should end in /api/v1"
        if not base.endswith("/api/v1"):
            fix += f" (e.g. {base.rstrip('/')}/v1)" if base.endswith("/api") else ""
        return fail(HTTP, f"nothing at {endpoint} (HTTP 404: {said})", fix), HttpFinding(code, date, True)
    if 300 <= code < 400:
        where = clean(headers.get("location", "?"), limit=160)
        return fail(
            HTTP,
            f"{endpoint} redirects to {where} (HTTP {code}); redirects are not followed",
            "use the URL it redirects to as the server URL",
        ), HttpFinding(code, date)
    if code >= 500:
        return fail(
            HTTP,
            f"the server answers with an error (HTTP {code}: {said})",
            "the server or its host is down or starting; wait and retry, and tell its operators if it lasts",
        ), HttpFinding(code, date)
    what = "POST only, as expected" if code == 405 else f"HTTP {code} to a GET"
    return ok(HTTP, f"{endpoint} answers ({what}, {took})"), HttpFinding(code, date)


def _detail(body: bytes) -> str:
    """FastAPI's {"detail": "..."} when the body is that, else the start of the body, one line."""
    import json

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return clean(data["detail"], limit=120)
    return clean(body.decode("utf-8", "replace"), limit=120)


def skew_seconds(date_header: str, now_wall: float) -> float | None:
    """The server's clock minus ours, from an HTTP Date header; None when it cannot be read."""
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp() - now_wall


def plain_words(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
