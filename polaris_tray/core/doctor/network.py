"""The links between this machine and the orchestrator, each turned into one line: DNS, proxy, TCP, TLS and
trust, HTTP. Each function takes what the link before it produced, and the walk's Deadline.

The lookup, the connect race, the proxy choice and the trust store are the heartbeat's own functions
(core/platform/resolve.py; core/heartbeat/connect.py, proxy.py, trust.py): the doctor reports what a beat
really does.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import cast
from urllib.parse import urlsplit

from polaris_tray.core.config.urls import is_loopback_host
from polaris_tray.core.doctor import probes
from polaris_tray.core.doctor.report import Check, fail, ok, warn
from polaris_tray.core.heartbeat import proxy as proxies
from polaris_tray.core.heartbeat.connect import connect_first
from polaris_tray.core.heartbeat.trust import Trust, TrustConfigError, trust
from polaris_tray.core.platform.resolve import RESOLVER, AddrInfo, ResolveTimeout
from polaris_tray.core.values.redact import clean

DNS, PROXY, TCP, TLS, HTTP = "DNS", "Proxy", "TCP", "TLS and trust", "HTTP"
DNS_S, CONNECT_S, TLS_S, HTTP_S = 3.0, 3.0, 3.0, 4.0
CERT_WARN_DAYS = 14
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
_NOT_HTTPS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST")
_PROXY_FIX = (
    "start the proxy or correct that variable; if this server needs no proxy, add its name to NO_PROXY"
)


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


def _families(infos: list[AddrInfo]) -> str:
    shown = []
    for family in dict.fromkeys(info[0] for info in infos):
        addresses = list(dict.fromkeys(info[4][0] for info in infos if info[0] == family))
        more = f" (+{len(addresses) - 2})" if len(addresses) > 2 else ""
        shown.append(f"{probes.family_name(family)} {', '.join(addresses[:2])}{more}")
    return "; ".join(shown)


def lookup(host: str, port: int, timeout: float) -> list[AddrInfo]:
    """The heartbeat's own bounded lookup (a literal address needs none)."""
    return RESOLVER.resolve(host, port, timeout=timeout)


def check_dns(host: str, port: int, deadline: probes.Deadline, proxied: bool) -> tuple[Check, list[AddrInfo]]:
    bound = deadline.left(DNS_S)
    started = time.monotonic()
    soft = " (the proxy looks the name up itself, so this may not matter)" if proxied else ""
    try:
        found = lookup(host, port, bound)
    except ResolveTimeout:
        text = f"no answer for {host} within {bound:g} s: the name server is silent{soft}"
        fix = f"check the DNS servers (/etc/resolv.conf, your router or VPN); try `getent hosts {host}`"
        return (warn(DNS, text, fix) if proxied else fail(DNS, text, fix)), []
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        text = f"{host} does not resolve ({why}){soft}"
        fix = "check the host name in the server URL; if it is right, check your DNS servers"
        if getattr(exc, "errno", None) == socket.EAI_AGAIN:  # no DNS answer at all, not "no such name"
            fix = f"check that this computer is online and its DNS servers answer; try `getent hosts {host}`"
        return (warn(DNS, text, fix) if proxied else fail(DNS, text, fix)), []
    if found and found[0][4][0] == host.strip("[]"):
        return ok(DNS, f"{host} is an address: no lookup needed"), found
    return ok(DNS, f"{host} → {_families(found)} ({_ms(started)})"), found


def select_proxy(endpoint: str) -> tuple[proxies.Proxy | None, str]:
    """The proxy a heartbeat would use, and the sentence when the environment names one it cannot use."""
    try:
        return proxies.proxy_for(endpoint), ""
    except proxies.ProxyConfigError as exc:
        return None, str(exc)


def _source(proxy: proxies.Proxy, environ: Mapping[str, str]) -> str:
    names = [n for n in _PROXY_VARS if environ.get(n) and proxy.url in (environ[n], f"http://{environ[n]}")]
    return names[0] if names else "the environment"


def check_proxy(
    proxy: proxies.Proxy | None,
    problem: str,
    endpoint: str,
    deadline: probes.Deadline,
    environ: Mapping[str, str] = os.environ,
) -> tuple[Check, socket.socket | None]:
    """The tunnel through the proxy, when one is selected: the socket the TLS step then uses."""
    host, port = probes.host_port(endpoint)
    if problem:
        return fail(PROXY, problem, _PROXY_FIX), None
    if proxy is None:
        if is_loopback_host(host):
            return ok(PROXY, "none: the server is on this computer (proxies are never used for it)"), None
        return ok(PROXY, "none: no HTTPS_PROXY or ALL_PROXY applies to this URL (direct connection)"), None
    named = f"{proxy.shown} (from {_source(proxy, environ)})"
    parts = urlsplit(proxy.url)
    if parts.scheme == "https":
        return warn(PROXY, f"{named}: a TLS proxy, not checked by the doctor"), None
    proxy_port = parts.port or 80
    try:
        found = lookup(parts.hostname or "", proxy_port, deadline.left(DNS_S))
    except (OSError, UnicodeError) as exc:
        return fail(PROXY, f"{named}: its name does not resolve ({exc})", _PROXY_FIX), None
    try:
        sock = connect_first(found, timeout=deadline.left(CONNECT_S))
    except TimeoutError:
        return fail(PROXY, f"{named} does not answer within {CONNECT_S:g} s", _PROXY_FIX), None
    except OSError as exc:
        refused = isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED
        why = "refused the connection" if refused else f"cannot be reached ({exc.strerror or exc})"
        return fail(PROXY, f"{named} {why}", _PROXY_FIX), None
    started = time.monotonic()
    try:
        code = probes.proxy_connect(sock, proxy.url, host, port, deadline.left(CONNECT_S))
    except (probes.StepTimeout, OSError, ValueError) as exc:
        sock.close()
        text = proxies.scrub(f"{named} accepted the connection but did not open a tunnel ({exc})", proxy)
        return fail(PROXY, text, _PROXY_FIX), None
    if code != 200:
        sock.close()
        extra = " (it wants a user name and password in the proxy URL)" if code == 407 else ""
        return fail(
            PROXY, f"{named} refused to tunnel to {host}:{port}: HTTP {code}{extra}", _PROXY_FIX
        ), None
    return ok(PROXY, f"{named} opened a tunnel to {host}:{port} ({_ms(started)})"), sock


def check_tcp(
    infos: list[AddrInfo], port: int, deadline: probes.Deadline
) -> tuple[Check, socket.socket | None]:
    """The heartbeat's own connect race (Happy Eyeballs): which family won, and whether the preferred one
    lost (a dead IPv6 route beside a working IPv4 one slows every beat by the race's delay)."""
    bound = deadline.left(CONNECT_S)
    started = time.monotonic()
    try:
        sock = connect_first(infos, timeout=bound)
    except TimeoutError:
        return fail(
            TCP,
            f"port {port}: no answer within {bound:g} s from {_families(infos)}",
            "a firewall or the network drops the connection; check the port and your network",
        ), None
    except OSError as exc:
        refused = isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED
        if refused:
            fix = f"nothing listens on port {port}: is the server up, and is the port right?"
        else:
            fix = "check the port and your network"
        return fail(TCP, f"port {port}: {exc.strerror or exc} ({_families(infos)})", fix), None
    peer = sock.getpeername()[0]
    family = probes.family_name(sock.family)
    text = f"port {port}: connected to {family} {peer} ({_ms(started)}); addresses: {_families(infos)}"
    preferred = infos[0][0] if infos else sock.family
    if sock.family != preferred:
        first = probes.family_name(preferred)
        fix = f"{first} is tried first and fails, which slows every beat; fix that route"
        return warn(TCP, text, fix), sock
    return ok(TCP, text), sock


def trust_in_use(environ: Mapping[str, str]) -> Trust | str:
    """The heartbeat's own trust (the OS store, or the CA variables), or the sentence saying why not."""
    try:
        return trust(environ)
    except TrustConfigError as exc:
        return str(exc)


# ((attribute or kind, value), ...): one relative name of getpeercert()'s subject or issuer, or its
# subjectAltName; typeshed types the dict's values as any of these or a str.
Names = tuple[tuple[str, str], ...]


def _name(cert: Mapping[str, object], key: str) -> str:
    """A name from the certificate, cleaned: a CA the user trusts (a TLS-inspecting proxy's) names itself
    as it likes, and its text must not drive the terminal."""
    for wanted in ("commonName", "organizationName"):
        for rdn in cast("tuple[Names, ...]", cert.get(key, ())):
            for name, value in rdn:
                if name == wanted:
                    return clean(value, limit=80)
    return "?"


def _subject(cert: Mapping[str, object]) -> str:
    """The names the certificate is for (subjectAltName, as verification uses them), else its CN."""
    alt = cast("Names", cert.get("subjectAltName", ()))
    names = [value for kind, value in alt if kind in ("DNS", "IP Address")]
    if names:
        shown = ", ".join(clean(n, limit=80) for n in names[:2])
        return shown + (f" (+{len(names) - 2})" if len(names) > 2 else "")
    return _name(cert, "subject")


def check_tls(
    sock: socket.socket,
    host: str,
    port: int,
    deadline: probes.Deadline,
    *,
    trusted: Trust | str,
    now_wall: float,
) -> tuple[Check, ssl.SSLSocket | None]:
    if isinstance(trusted, str):
        sock.close()
        return fail(TLS, trusted, "fix or unset that variable"), None
    bound = deadline.left(TLS_S)
    started = time.monotonic()
    try:
        wrapped = probes.tls_wrap(sock, host, trusted.context, bound)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        return _verify_failure(exc, host, trusted), None
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
        f"{wrapped.version()}, certificate for {_subject(cert)}, issued by {_name(cert, 'issuer')}, "
        f"valid until {until} ({_ms(started)}); trust: {trusted.source}"
    )
    if expires is not None and expires - now_wall < CERT_WARN_DAYS * 86400:
        return warn(TLS, text, "the certificate expires soon: tell the orchestrator's operators"), wrapped
    return ok(TLS, text), wrapped


def _verify_failure(exc: ssl.SSLCertVerificationError, host: str, trusted: Trust) -> Check:
    message = exc.verify_message or str(exc)
    if "expired" in message:
        return fail(
            TLS,
            f"the server's certificate has expired (trust: {trusted.source})",
            "check this computer's clock; if it is right, the server's operators must renew the certificate",
        )
    if "mismatch" in message or "doesn't match" in message:
        return fail(
            TLS, f"the server's certificate is not for {host}", "check the host name in the server URL"
        )
    return fail(
        TLS,
        f"the server's certificate is not trusted: {message} (trust: {trusted.source})",
        "if your network inspects TLS (a company proxy), add its CA to the system trust store "
        "(update-ca-certificates) or point REQUESTS_CA_BUNDLE at a bundle that holds it",
    )


@dataclass(frozen=True)
class HttpFinding:
    code: int | None = None
    date: str | None = None  # the server's Date header, for the clock's line
    no_endpoint: bool = False  # 404 Not Found: the URL's path is wrong


def check_http(
    sock: socket.socket, endpoint: str, deadline: probes.Deadline, user_agent: str
) -> tuple[Check, HttpFinding]:
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
    said = _detail(body) or clean(reason, limit=120)  # the server's words: never raw to a terminal
    date = headers.get("date")
    took = _ms(started)
    if code == 404:
        base = endpoint.rsplit("/heart_beat", 1)[0]
        fix = "check the server URL: it should end in /api/v1"
        if base.rstrip("/").endswith("/api/v1"):  # the path is right: "should end in /api/v1" would puzzle
            fix = "the path is right, so this is another server: check the host and port of the URL"
        elif base.endswith("/api"):
            fix += f" (e.g. {base.rstrip('/')}/v1)"
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
    text = body.decode("utf-8", "replace")
    if (
        text.lstrip().lower().startswith(("<!doctype", "<html"))
    ):  # a proxy's error page: its title, not markup
        title = re.search(r"<title[^>]*>(.*?)</title>", text[:16384], re.I | re.S)
        text = f"HTML page: {title.group(1)}" if title else "an HTML page"
    return clean(text, limit=120)


def skew_seconds(date_header: str, now_wall: float) -> float | None:
    """The server's clock minus ours, from an HTTP Date header; None when it cannot be read."""
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(date_header)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp() - now_wall
    except (TypeError, ValueError, IndexError, OverflowError):  # a server's numbers too big for a datetime
        return None


def plain_words(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
