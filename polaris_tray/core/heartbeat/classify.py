"""From what the server sent (or the exception the exchange raised) to one typed Outcome.

Everything here reads server-fed input, so every parser is total: any header, any body, any depth ends in
an Outcome, and any text taken from the server is redacted, made one line and bounded (storage.redact).
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import time
from collections.abc import Callable, Mapping
from datetime import timezone

from polaris_tray.core.heartbeat.transport import Phase
from polaris_tray.core.platform.resolve import ResolveTimeout
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.values.redact import clean, mask_secret

EXCERPT = 240
MAX_RETRY_AFTER_S = 1e15  # "wait very long": the schedule caps any wait anyway
_MAX_COMMANDS = 20
MAX_SCAN = 16 * 1024  # where an HTML title is looked for
_DIGITS = re.compile(r"[0-9]+")


def parse_retry_after(value: str | None, now_wall: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP-date); None when absent or malformed.

    ASCII digits only (str.isdigit() accepts '²', which int() refuses), and no int() of thousands of
    digits (Python refuses those too): a long number means "very long".
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if _DIGITS.fullmatch(text):
        return float(int(text)) if len(text) <= 15 else MAX_RETRY_AFTER_S
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return min(MAX_RETRY_AFTER_S, max(0.0, when.timestamp() - now_wall()))
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        return None


def exception_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 50:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__])
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def _chain_text(exc: BaseException) -> str:
    return " ".join(str(e) for e in exception_chain(exc))


def tls_message(exc: BaseException, proxy: str | None = None) -> str:
    text = _chain_text(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "expired" in text:
            return "TLS: the server's certificate has expired."
        if "Hostname mismatch" in text or "doesn't match" in text or "IP address mismatch" in text:
            return "TLS: the server's certificate is for another host name."
        return (
            "TLS: the server's certificate is not trusted (self-signed or unknown authority); if your "
            "network inspects TLS, install its CA in the system trust store (see docs/networks.md)."
        )
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text or "http request" in text.lower():
        if proxy:  # a filtering proxy that opens the tunnel and then answers with a page of its own
            return (
                f"TLS: no TLS came through the proxy {proxy} (it answered the tunnel in plain text, or the "
                "server does not speak HTTPS): ask who runs the proxy whether it lets this server through."
            )
        return "This server does not speak HTTPS — did you mean http://?"
    return f"TLS: the handshake failed: {clean(_innermost(exc), limit=EXCERPT)}"


def timeout_message(
    phase: tuple[Phase, str], deadline_s: float, proxy: str | None
) -> tuple[NetworkReason, str]:
    """The reason and sentence for a deadline that passed during `phase` (transport.Phase, where)."""
    step, where = phase
    n = f"{deadline_s:g}"
    via = f" (through the proxy {proxy})" if proxy else ""
    if step is Phase.DNS:
        return NetworkReason.DNS, f"Cannot resolve {where} (DNS did not answer in {n} s)."
    if step is Phase.PROXY:
        return NetworkReason.PROXY, f"The proxy {proxy or where} did not answer within {n} s."
    if step is Phase.CONNECT:
        return (
            NetworkReason.TIMEOUT,
            f"Could not connect to {where} within {n} s (no answer to the connection).",
        )
    if step is Phase.TLS:
        return NetworkReason.TIMEOUT, f"TLS: no handshake with {where} within {n} s{via}."
    return NetworkReason.TIMEOUT, f"No complete reply within {n} s{via}."


_TUNNEL = re.compile(r"Tunnel connection failed: (\d{3})([^'\")\]]*)")
_POOL_NOISE = re.compile(
    r"\w*HTTPS?ConnectionPool\([^)]*\)|\w*HTTPS?Connection\(host=[^)]*\)|<[\w.]*(?:Connection|Pool)[^>]*>|"
    r"Max retries exceeded with url: \S+|\(Caused by [A-Za-z]+\(|: ?Failed to establish a new connection"
)


def classify_failure(
    exc: BaseException,
    host: str,
    phase: tuple[Phase, str] = (Phase.REPLY, ""),
    proxy: str | None = None,
) -> tuple[NetworkReason, str]:
    """The reason and message for an exchange that raised (not cut: the caller checks that first),
    naming the phase that failed: the DNS, the proxy, the connection, or the reply."""
    chain = exception_chain(exc)
    text = " ".join(str(e) for e in chain)
    step, where = phase
    where = where or host
    at_proxy = step is Phase.PROXY or (
        proxy is not None and "proxy" in text.lower() and step is not Phase.REPLY
    )
    tunnel = _TUNNEL.search(text)
    if tunnel:
        code, said = int(tunnel.group(1)), tunnel.group(2).strip()
        if code == 407:
            return NetworkReason.PROXY_AUTH, (
                f"The proxy {proxy or where} needs credentials (HTTP 407): give them in HTTPS_PROXY as "
                "http://user:password@host:port."
            )
        return (
            NetworkReason.PROXY,
            f"The proxy {proxy or where} refused the tunnel to {host} (HTTP {code} {said}).",
        )
    for e in chain:
        if isinstance(e, ResolveTimeout):
            return NetworkReason.DNS, f"Cannot resolve {e.host} (DNS did not answer in {e.seconds:g} s)."
    gai = next((e for e in chain if isinstance(e, socket.gaierror)), None)
    if gai is not None or "NameResolutionError" in text:
        name = (proxy or where).rsplit(":", 1)[0] if at_proxy else host
        what = "the proxy's name" if at_proxy else "the server name"
        return NetworkReason.DNS, f"Cannot resolve {what} {name}: {_gai_words(gai)}."
    if any(isinstance(e, TimeoutError) for e in chain) or "timed out" in text:
        reason, message = timeout_message(phase, _seconds(text), proxy)
        return reason, message
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        if at_proxy:
            return NetworkReason.PROXY, f"The proxy {proxy or where} refused the connection."
        return NetworkReason.REFUSED, f"Could not connect to {where}: connection refused."
    if step in (Phase.CONNECT, Phase.PROXY):
        errors = [e for e in chain if isinstance(e, OSError) and e.errno]
        detail = errors[0].strerror if errors else _innermost(exc)
        if at_proxy:
            return NetworkReason.PROXY, f"The proxy {proxy or where} could not be reached: {detail}."
        return NetworkReason.OTHER, f"Could not connect to {where}: {detail}."
    if any(isinstance(e, (ConnectionResetError, BrokenPipeError)) for e in chain) or (
        "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower()
    ):
        if at_proxy:
            return NetworkReason.PROXY, f"The proxy {proxy or where} closed the connection."
        return NetworkReason.RESET, f"The connection to {host} was reset."
    return NetworkReason.OTHER, f"Network error: {clean(_innermost(exc), limit=EXCERPT)}"


def _gai_words(gai: socket.gaierror | None) -> str:
    if gai is None:
        return "the name lookup failed"
    if gai.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
        return "no such name (DNS)"
    if gai.errno == socket.EAI_AGAIN:
        return "the DNS server failed or did not answer"  # the state adds "retrying"; --once does not retry
    return f"the name lookup failed ({gai.strerror})"


def _seconds(text: str) -> float:
    found = re.search(r"within ([0-9.]+) s|timeout=([0-9.]+)", text)
    if found:
        try:
            return float(found.group(1) or found.group(2))
        except ValueError:
            pass
    return 10.0


def _innermost(exc: BaseException) -> str:
    """The deepest exception's own words, without urllib3's pool and retry wrappers."""
    chain = exception_chain(exc)
    plain = [e for e in chain if not type(e).__module__.startswith(("urllib3", "requests"))]
    text = str(plain[-1] if plain else chain[-1])
    return _POOL_NOISE.sub("", text).strip(" :,()'\"") or type(exc).__name__


def _body_excerpt(content: bytes, truncated: bool, content_type: str, secrets: tuple[str, ...]) -> str:
    text = content.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text[:MAX_SCAN], re.I | re.S)
        text = f"HTML page: {title.group(1)}" if title else "an HTML page"
    return clean(text, secrets, EXCERPT) + (" (reply cut at 64 KiB)" if truncated else "")


def json_or_none(content: bytes, truncated: bool) -> object:
    """The parsed body, or None: a cut, empty, malformed or absurdly deep body is simply not JSON to us."""
    if truncated or not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _validation_detail(data: object) -> str | None:
    if not isinstance(data, dict):
        return None
    detail = data.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc_items = item.get("loc", [])
                loc_items = loc_items[:10] if isinstance(loc_items, list) else []
                loc = ".".join(_scalar(p) for p in loc_items if p != "body")
                msg = _scalar(item.get("msg", "?"))
                parts.append(f"{loc}: {msg}" if loc else msg)
        return "; ".join(parts) or None
    return None


def _scalar(value: object) -> str:
    """A short text for a JSON value; a nested structure is never turned into text (its repr can recurse)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)[:EXCERPT]
    return "…"


_MINER_NOT_FOUND = re.compile(r"\bminer\b.*\bnot (?:found|registered)\b", re.I | re.S)


def _not_found(
    data: object, said: str, latency: float, secrets: tuple[str, ...], endpoint: str = ""
) -> Outcome:
    """A wrong URL and an unknown miner both answer 404: FastAPI's bare {"detail": "Not Found"} means no
    such route (the URL is wrong), a detail naming the miner means it is not registered."""
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, str) and _MINER_NOT_FOUND.search(detail):
        return Outcome(
            OutcomeKind.NOT_REGISTERED,
            status_code=404,
            latency_ms=latency,
            error=f"Miner {_masked(secrets)} is not registered with this orchestrator: run "
            f"`polaris register` or check the id (HTTP 404: {said}).",
        )
    if detail is None or (isinstance(detail, str) and detail.strip().lower() == "not found"):
        if endpoint.rsplit("/heart_beat", 1)[0].rstrip("/").endswith("/api/v1"):  # the path is already right
            return Outcome(
                OutcomeKind.CONFIG_ERROR,
                status_code=404,
                latency_ms=latency,
                error="Check the server URL: its path is right, so this is another server: check the host "
                f"and port (HTTP 404: {said}).",
            )
        return Outcome(
            OutcomeKind.CONFIG_ERROR,
            status_code=404,
            latency_ms=latency,
            error="Check the server URL: it should end in /api/v1 (this server has no /heart_beat there; "
            f"HTTP 404: {said}).",
        )
    return Outcome(
        OutcomeKind.NOT_REGISTERED,
        status_code=404,
        latency_ms=latency,
        error=f"This orchestrator does not know miner {_masked(secrets)} (HTTP 404: {said}): run "
        "`polaris register` or check the id and the server URL.",
    )


def _masked(secrets: tuple[str, ...]) -> str:
    return mask_secret(secrets[0]) if secrets else "(this id)"


def classify_reply(
    code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    truncated: bool,
    latency: float,
    secrets: tuple[str, ...],
    endpoint: str = "",
) -> Outcome:
    """A 2xx is accepted whatever its body says: the status is the contract, the body only adds detail
    (an unparseable or absurdly deep body leaves last_seen empty)."""
    data = json_or_none(content, truncated)
    ctype = headers.get("Content-Type", "")

    def said() -> str:
        detail = _validation_detail(data)
        if detail is not None:
            return clean(detail, secrets, EXCERPT)
        return _body_excerpt(content, truncated, ctype, secrets)

    if 200 <= code < 300:
        last_seen = data.get("last_seen") if isinstance(data, dict) else None
        commands = data.get("commands") if isinstance(data, dict) else None
        return Outcome(
            OutcomeKind.ACCEPTED,
            status_code=code,
            latency_ms=latency,
            last_seen=clean(_scalar(last_seen), secrets, 64) if last_seen is not None else None,
            commands=tuple(commands[:_MAX_COMMANDS]) if isinstance(commands, list) else (),
        )
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if 300 <= code < 400:
        location = clean(headers.get("Location", "(no Location header)"), secrets, EXCERPT)
        return Outcome(
            OutcomeKind.SERVER_ERROR,
            status_code=code,
            latency_ms=latency,
            error=f"The server redirects to {location} (HTTP {code}); redirects are not followed: "
            "check the server URL.",
        )
    if code == 404:
        return _not_found(data, said(), latency, secrets, endpoint)
    if code == 422:
        return Outcome(
            OutcomeKind.REJECTED,
            status_code=code,
            latency_ms=latency,
            error=f"The orchestrator rejected the heartbeat (HTTP 422: {said()}).",
        )
    if code == 429 or (code == 503 and retry_after is not None):
        return Outcome(
            OutcomeKind.RATE_LIMITED,
            status_code=code,
            latency_ms=latency,
            retry_after=retry_after,
            error=f"The server asks to slow down (HTTP {code}).",
        )
    return Outcome(
        OutcomeKind.SERVER_ERROR,
        status_code=code,
        latency_ms=latency,
        retry_after=retry_after,
        error=f"Server error (HTTP {code}: {said()}).",
    )
