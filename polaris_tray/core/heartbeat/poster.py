"""The HTTP side of a heartbeat: one POST with a hard deadline, a capped read and a typed outcome.

The deadline and the cut live in transport.py, the reading of replies in classify.py; this file ties
them to one session.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping

import requests

from polaris_tray.core.config.limits import REQUEST_DEADLINE_S
from polaris_tray.core.config.urls import heartbeat_endpoint, host_problem, server_host
from polaris_tray.core.heartbeat.classify import (
    classify_failure,
    classify_reply,
    timeout_message,
    tls_message,
)
from polaris_tray.core.heartbeat.proxy import Proxy, ProxyConfigError, proxy_for, scrub
from polaris_tray.core.heartbeat.transport import DEADLINE_WATCH, CuttableAdapter, Phase, SocketCutter
from polaris_tray.core.heartbeat.trust import TrustConfigError, trust
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.values.redact import clean

MAX_REPLY_BYTES = 64 * 1024
_CHUNK = 8192
CANCELLED_TEXT = "Cancelled: the agent is stopping."


class BeatPoster:
    """One session to one server, owned by one thread (requests.Session is not thread-safe).

    From any other thread only two calls are allowed:
    - abort(): cuts the request under way, including one whose post() has begun but not yet connected;
      it ends within milliseconds as a CANCELLED outcome. A post() that starts after abort() returned is
      not affected: abort is for "this request", e.g. Stop or Apply while a request hangs.
    - close(): permanent. Cuts the request under way like abort(), and every later post() returns
      CANCELLED at once without touching the network, so nothing can slip out after Quit however the
      queued calls interleave. The session itself is released by whichever thread ends last.
    A deadline (default 10 s) bounds every post() however the server shapes its reply: it then ends
    within milliseconds of the deadline as a TIMEOUT outcome, never as accepted.
    """

    def __init__(
        self,
        server_url: str,
        user_agent: str,
        *,
        deadline_s: float = REQUEST_DEADLINE_S,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server_url = server_url
        self.endpoint = heartbeat_endpoint(server_url)
        self._user_agent = user_agent
        self._deadline_s = deadline_s
        self._max_reply = max_reply_bytes
        self._clock = clock
        self._cutter = SocketCutter()
        self._lock = threading.Lock()
        self._closed = False
        self._busy = False
        self._aborts = 0  # abort() calls so far: a post() that saw an older count was aborted
        self._session: requests.Session | None = None
        self._host = server_host(server_url)
        self._host_problem = host_problem(self._host)
        DEADLINE_WATCH.register()
        self._unregister = weakref.finalize(self, DEADLINE_WATCH.unregister)
        # The environment is read once here, not on every beat (requests would scan it twice per request):
        # the proxy as users configure it (proxy.py: none for a server on this machine, SOCKS refused) and
        # the trust (trust.py: the OS's store unless a CA variable says otherwise). A problem with either
        # is a configuration error every post() reports. Verification stays on whatever the environment says.
        self._config_problem: str | None = None
        self._proxy: Proxy | None = None
        self._ssl_context = None
        try:
            self._proxy = proxy_for(self.endpoint)
            if self.endpoint.lower().startswith("https"):
                self._ssl_context = trust().context
        except (ProxyConfigError, TrustConfigError) as exc:
            self._config_problem = str(exc)
        self._proxies: dict[str, str] = (
            {"https": self._proxy.url, "http": self._proxy.url} if self._proxy else {}
        )

    @property
    def closed(self) -> bool:
        return self._closed

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # resolved once in __init__
        adapter = CuttableAdapter(self._cutter, self._ssl_context)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"User-Agent": self._user_agent, "Content-Type": "application/json"})
        return session

    def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def close(self) -> None:
        """Permanent, from any thread: cut what is under way, refuse every later post()."""
        with self._lock:
            first = not self._closed
            self._closed = True
            busy = self._busy
        self._cutter.cut(timed_out=False)
        if not busy:
            self._drop_session()
        if first:
            self._unregister()

    def abort(self) -> None:
        """Cut the request under way, if any: safe from any thread (see the class docstring)."""
        with self._lock:
            self._aborts += 1
        self._cutter.cut(timed_out=False)

    def post(self, payload: Mapping[str, object], secrets: Iterable[str] = ()) -> Outcome:
        with self._lock:
            aborts_seen = self._aborts
        secrets = tuple(s for s in secrets if s)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        started = self._clock()
        self._cutter.begin()
        with self._lock:
            if self._closed or self._aborts != aborts_seen:
                self._cutter.end()
                return self._network(NetworkReason.CANCELLED, CANCELLED_TEXT, started)
            self._busy = True
        ticket = DEADLINE_WATCH.arm(self._cutter, self._deadline_s)
        try:
            if self._session is None:
                self._session = self._new_session()
            outcome = self._exchange(body, secrets, started)
        finally:
            DEADLINE_WATCH.disarm(ticket)
            # Whatever the exchange made of a cut reply (an HTTP/1.0 body "ends" at the cut, a reply cut
            # mid-headers may parse), a cut attempt is a timeout or a cancellation, never accepted.
            timed_out, aborted = self._cutter.timed_out, self._cutter.aborted
            self._cutter.end()
            with self._lock:
                self._busy = False
                closed = self._closed
        if aborted or closed:
            outcome = self._network(NetworkReason.CANCELLED, CANCELLED_TEXT, started)
        elif timed_out:
            outcome = self._network(*self._timeout(), started)
        if outcome.kind is OutcomeKind.NETWORK_ERROR or closed:
            # A half-dead or cut pooled connection must not poison the next attempt.
            self._drop_session()
        return outcome

    def _elapsed_ms(self, started: float) -> float:
        return (self._clock() - started) * 1000.0

    def _exchange(self, body: bytes, secrets: tuple[str, ...], started: float) -> Outcome:
        assert self._session is not None
        if self._host_problem:
            return Outcome(OutcomeKind.CONFIG_ERROR, error=f"Invalid server URL: {self._host_problem}.")
        if self._config_problem:
            return Outcome(OutcomeKind.CONFIG_ERROR, error=scrub(self._config_problem, self._proxy))
        timeout = (self._deadline_s, self._deadline_s)
        try:
            reply = self._session.post(
                self.endpoint,
                data=body,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                verify=True,
                proxies=self._proxies,
            )
            try:
                content, truncated = self._read_capped(reply)
            finally:
                reply.close()
        except (requests.exceptions.InvalidURL, requests.exceptions.URLRequired, UnicodeError) as exc:
            text = scrub(str(exc), self._proxy)
            return Outcome(OutcomeKind.CONFIG_ERROR, error=f"Invalid server URL: {clean(text, secrets)}")
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            if self._cutter.timed_out or self._cutter.aborted:
                return self._network(NetworkReason.OTHER, "cut", started)  # replaced by post()
            if isinstance(exc, requests.exceptions.SSLError) and self._cutter.phase[0] is Phase.TLS:
                reason, message = NetworkReason.TLS, tls_message(exc, self._proxy_shown)
            elif isinstance(exc, (TimeoutError, requests.exceptions.Timeout)):
                reason, message = self._timeout()
            else:
                reason, message = classify_failure(exc, self._host, self._cutter.phase, self._proxy_shown)
            return self._network(reason, clean(scrub(message, self._proxy), secrets), started)
        latency = self._elapsed_ms(started)
        return classify_reply(
            reply.status_code,
            reply.headers,
            content,
            truncated=truncated,
            latency=latency,
            secrets=secrets,
            endpoint=self.endpoint,
        )

    @property
    def _proxy_shown(self) -> str | None:
        return self._proxy.shown if self._proxy else None

    def _timeout(self) -> tuple[NetworkReason, str]:
        """The reason and sentence for a deadline that passed, naming the phase that did not finish."""
        return timeout_message(self._cutter.phase, self._deadline_s, self._proxy_shown)

    def _network(self, reason: NetworkReason, message: str, started: float) -> Outcome:
        return Outcome(
            OutcomeKind.NETWORK_ERROR, latency_ms=self._elapsed_ms(started), error=message, reason=reason
        )

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
