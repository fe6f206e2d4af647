"""The HTTP side of a heartbeat: one POST with a hard deadline, a capped read and a typed outcome.

requests has no total timeout (a server that drips a byte at a time never trips the read timeout), so a
watchdog shuts down the socket of the request under way when the deadline passes. The same cut serves
abort(), which is what lets the app quit at once while a request hangs.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timezone

import requests
from requests.adapters import HTTPAdapter

from polaris_tray.core.config.urls import heartbeat_endpoint, is_loopback_host, server_host
from polaris_tray.core.status.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.storage.redact import redact

DEADLINE_S = 10.0
MAX_REPLY_BYTES = 64 * 1024
_CHUNK = 8192
_EXCERPT = 240


def parse_retry_after(value: str | None, now_wall: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP-date); None when absent or malformed."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now_wall())


class _Cutter:
    """Knows the connection in use, so another thread can shut its socket down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn = None
        self.timed_out = False
        self.aborted = False

    def reset(self) -> None:
        """Before each request. An abort stays: abort() is final for this client (its owner builds a new
        one), so an abort that lands just before post() reaches the socket still cuts it."""
        with self._lock:
            self._conn = None
            self.timed_out = False

    def attach(self, conn) -> None:
        with self._lock:
            self._conn = conn
            if self.timed_out or self.aborted:
                _shutdown(conn)

    def cut(self, *, timed_out: bool) -> None:
        with self._lock:
            if timed_out:
                self.timed_out = True
            else:
                self.aborted = True
            if self._conn is not None:
                _shutdown(self._conn)


class _Watchdog:
    """One long-lived thread per client that cuts the request under way when its deadline passes.

    A thread per request (threading.Timer) would cost a thread start on every beat.
    """

    def __init__(self, cutter: _Cutter, clock: Callable[[], float]) -> None:
        self._cutter = cutter
        self._clock = clock
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._ended = False

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._deadline = self._clock() + seconds
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="heartbeat-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None
            self._cond.notify()

    def end(self) -> None:
        """With its client: the thread ends (a later arm() starts a new one)."""
        with self._cond:
            self._deadline = None
            self._ended = True
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        with self._cond:
            self._ended = False

    def _run(self) -> None:
        with self._cond:
            while not self._ended:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - self._clock()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._deadline = None
                self._cutter.cut(timed_out=True)


def _shutdown(conn) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        # The base-class call works on the descriptor: SSLSocket.shutdown would drop its TLS state under
        # the feet of the thread that is reading.
        if isinstance(sock, socket.socket):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        else:
            sock.close()
    except OSError:
        pass


class _CuttableAdapter(HTTPAdapter):
    """An adapter whose connections report themselves to a _Cutter when they connect or send."""

    def __init__(self, cutter: _Cutter) -> None:
        self._cutter = cutter
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        pools = self.poolmanager.pool_classes_by_scheme
        self.poolmanager.pool_classes_by_scheme = {
            scheme: _tracked_pool(pool_cls, self._cutter) for scheme, pool_cls in pools.items()
        }


def _tracked_pool(pool_cls, cutter: _Cutter):
    base_conn = pool_cls.ConnectionCls

    class TrackedConnection(base_conn):
        def connect(self):
            cutter.attach(self)
            super().connect()
            cutter.attach(self)

        def request(self, *args, **kwargs):
            cutter.attach(self)
            return super().request(*args, **kwargs)

    return type(f"Tracked{pool_cls.__name__}", (pool_cls,), {"ConnectionCls": TrackedConnection})


class HeartbeatClient:
    """Owned by one thread (requests.Session is not thread-safe); only abort() may be called from others."""

    def __init__(
        self,
        server_url: str,
        user_agent: str,
        *,
        deadline_s: float = DEADLINE_S,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server_url = server_url
        self.endpoint = heartbeat_endpoint(server_url)
        self._user_agent = user_agent
        self._deadline_s = deadline_s
        self._max_reply = max_reply_bytes
        self._clock = clock
        self._cutter = _Cutter()
        self._watchdog = _Watchdog(self._cutter, time.monotonic)
        self._session: requests.Session | None = None
        # A proxy in the environment has no business between us and a server on this machine.
        # The environment is read once here, not on every beat (requests would scan it twice per request):
        # proxies as requests would pick them (NO_PROXY honoured), none at all for a server on this machine,
        # and the CA bundle requests honours. Verification stays on whatever the environment says.
        if is_loopback_host(server_host(server_url)):
            self._proxies: dict = {}
        else:
            self._proxies = requests.utils.get_environ_proxies(self.endpoint)
        self._verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # resolved once in __init__
        adapter = _CuttableAdapter(self._cutter)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"User-Agent": self._user_agent, "Content-Type": "application/json"})
        return session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._watchdog.end()

    def abort(self) -> None:
        """Cut the request under way, if any, and every later one: safe from any thread."""
        self._cutter.cut(timed_out=False)

    def post(self, payload: dict, secrets: Iterable[str] = ()) -> Outcome:
        secrets = tuple(s for s in secrets if s)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        if self._session is None:
            self._session = self._new_session()
        self._cutter.reset()
        started = self._clock()
        self._watchdog.arm(self._deadline_s)
        try:
            outcome = self._exchange(body, secrets, started)
        finally:
            self._watchdog.disarm()
        if outcome.kind is OutcomeKind.NETWORK_ERROR:
            # A half-dead pooled connection must not poison the next attempt.
            self.close()
        return outcome

    def _elapsed_ms(self, started: float) -> float:
        return (self._clock() - started) * 1000.0

    def _exchange(self, body: bytes, secrets: tuple[str, ...], started: float) -> Outcome:
        assert self._session is not None
        timeout = (self._deadline_s, self._deadline_s)
        try:
            reply = self._session.post(
                self.endpoint,
                data=body,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                verify=self._verify,
                proxies=self._proxies,
            )
            try:
                content, truncated = self._read_capped(reply)
            finally:
                reply.close()
        except requests.exceptions.SSLError as exc:
            return self._network(NetworkReason.TLS, _tls_message(exc), started)
        except (TimeoutError, requests.exceptions.Timeout):
            return self._network(NetworkReason.TIMEOUT, self._timeout_message(), started)
        except requests.exceptions.InvalidURL as exc:
            return Outcome(OutcomeKind.CONFIG_ERROR, error=f"Invalid server URL: {exc}")
        except (requests.exceptions.RequestException, OSError) as exc:
            return self._classify_failure(exc, started)
        latency = self._elapsed_ms(started)
        return _classify_reply(reply, content, truncated, latency, secrets)

    def _timeout_message(self) -> str:
        return f"No complete reply within {self._deadline_s:g} s."

    def _network(self, reason: NetworkReason, message: str, started: float) -> Outcome:
        return Outcome(
            OutcomeKind.NETWORK_ERROR, latency_ms=self._elapsed_ms(started), error=message, reason=reason
        )

    def _classify_failure(self, exc: BaseException, started: float) -> Outcome:
        if self._cutter.aborted:
            return self._network(NetworkReason.CANCELLED, "Cancelled: the agent is stopping.", started)
        if self._cutter.timed_out:
            return self._network(NetworkReason.TIMEOUT, self._timeout_message(), started)
        chain = _exception_chain(exc)
        text = " ".join(str(e) for e in chain)
        host = server_host(self.server_url)
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return self._network(NetworkReason.REFUSED, f"Connection refused by {host}.", started)
        if any(isinstance(e, socket.gaierror) for e in chain) or "NameResolutionError" in text:
            return self._network(NetworkReason.DNS, f"Cannot resolve the server name {host}.", started)
        if any(isinstance(e, (ConnectionResetError, BrokenPipeError)) for e in chain) or (
            "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower()
        ):
            return self._network(NetworkReason.RESET, f"The connection to {host} was reset.", started)
        return self._network(NetworkReason.OTHER, f"Network error: {_short(text)}", started)

    def _read_capped(self, reply: requests.Response) -> tuple[bytes, bool]:
        """At most max_reply bytes: a server that floods cannot fill our memory."""
        chunks: list[bytes] = []
        size = 0
        for chunk in reply.iter_content(chunk_size=_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_reply:
                return b"".join(chunks)[: self._max_reply], True
        return b"".join(chunks), False


def _exception_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
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


def _tls_message(exc: BaseException) -> str:
    text = " ".join(str(e) for e in _exception_chain(exc))
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "expired" in text:
            return "The server's certificate has expired."
        if "Hostname mismatch" in text or "doesn't match" in text or "IP address mismatch" in text:
            return "The server's certificate is for another host name."
        return "The server's certificate is not trusted (self-signed or unknown authority)."
    return f"TLS handshake failed: {_short(text)}"


def _short(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _body_excerpt(content: bytes, truncated: bool, content_type: str) -> str:
    text = content.decode("utf-8", errors="replace")
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        text = f"HTML page: {title.group(1)}" if title else "an HTML page"
    return _short(text) + (" (reply cut at 64 KiB)" if truncated else "")


def _json_or_none(content: bytes, truncated: bool):
    if truncated or not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
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
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '?')}" if loc else str(item.get("msg", "?")))
        return "; ".join(parts) or None
    return None


def _classify_reply(
    reply: requests.Response, content: bytes, truncated: bool, latency: float, secrets: tuple[str, ...]
) -> Outcome:
    code = reply.status_code
    data = _json_or_none(content, truncated)
    ctype = reply.headers.get("Content-Type", "")

    def said() -> str:
        return redact(_validation_detail(data) or _body_excerpt(content, truncated, ctype), secrets)

    if 200 <= code < 300:
        last_seen = data.get("last_seen") if isinstance(data, dict) else None
        commands = data.get("commands") if isinstance(data, dict) else None
        return Outcome(
            OutcomeKind.ACCEPTED,
            status_code=code,
            latency_ms=latency,
            last_seen=str(last_seen) if last_seen is not None else None,
            commands=tuple(commands) if isinstance(commands, list) else (),
        )
    retry_after = parse_retry_after(reply.headers.get("Retry-After"))
    if 300 <= code < 400:
        location = _short(redact(reply.headers.get("Location", "(no Location header)"), secrets))
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
