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
from collections.abc import Callable
from datetime import timezone

from polaris_tray.core.status.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.storage.redact import clean

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


def tls_message(exc: BaseException) -> str:
    text = _chain_text(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "expired" in text:
            return "The server's certificate has expired."
        if "Hostname mismatch" in text or "doesn't match" in text or "IP address mismatch" in text:
            return "The server's certificate is for another host name."
        return "The server's certificate is not trusted (self-signed or unknown authority)."
    return f"TLS handshake failed: {clean(text, limit=EXCERPT)}"


def classify_failure(exc: BaseException, host: str) -> tuple[NetworkReason, str]:
    """The reason and message for an exchange that raised (not cut: the caller checks that first)."""
    chain = exception_chain(exc)
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return NetworkReason.REFUSED, f"Connection refused by {host}."
    if any(isinstance(e, socket.gaierror) for e in chain) or "NameResolutionError" in text:
        return NetworkReason.DNS, f"Cannot resolve the server name {host}."
    if any(isinstance(e, (ConnectionResetError, BrokenPipeError)) for e in chain) or (
        "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower()
    ):
        return NetworkReason.RESET, f"The connection to {host} was reset."
    return NetworkReason.OTHER, f"Network error: {clean(text, limit=EXCERPT)}"


def _body_excerpt(content: bytes, truncated: bool, content_type: str, secrets: tuple[str, ...]) -> str:
    text = content.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text[:MAX_SCAN], re.I | re.S)
        text = f"HTML page: {title.group(1)}" if title else "an HTML page"
    return clean(text, secrets, EXCERPT) + (" (reply cut at 64 KiB)" if truncated else "")


def json_or_none(content: bytes, truncated: bool):
    """The parsed body, or None: a cut, empty, malformed or absurdly deep body is simply not JSON to us."""
    if truncated or not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _validation_detail(data) -> str | None:
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


def _scalar(value) -> str:
    """A short text for a JSON value; a nested structure is never turned into text (its repr can recurse)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)[:EXCERPT]
    return "…"


def classify_reply(
    code: int, headers, content: bytes, *, truncated: bool, latency: float, secrets: tuple[str, ...]
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
        return Outcome(
            OutcomeKind.NOT_REGISTERED,
            status_code=code,
            latency_ms=latency,
            error=f"This orchestrator does not know this miner id (HTTP 404: {said()}).",
        )
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
