"""One heartbeat attempt: sample the machine, build the body, send it."""

from __future__ import annotations

import threading

from polaris_tray import __version__
from polaris_tray.core.config.limits import REQUEST_DEADLINE_S
from polaris_tray.core.config.urls import server_host
from polaris_tray.core.heartbeat.metrics import SystemSampler
from polaris_tray.core.heartbeat.payload import build_heartbeat
from polaris_tray.core.heartbeat.poster import CANCELLED_TEXT, BeatPoster
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

USER_AGENT = f"PolarisHeartbeat/{__version__}"
OFFLINE_DEADLINE_S = 1.0


class BeatSender:
    """Owned by the thread that sends; abort() alone may be called from another thread."""

    def __init__(
        self,
        server_url: str,
        miner_id: str | None,
        *,
        deadline_s: float = REQUEST_DEADLINE_S,
        sampler: SystemSampler | None = None,
    ) -> None:
        self.server_url = server_url
        self.miner_id = miner_id
        self._deadline_s = deadline_s
        self._sampler = sampler or SystemSampler(server_host(server_url))
        self._poster = BeatPoster(server_url, USER_AGENT, deadline_s=deadline_s)
        self.last_latency_ms = 0.0
        self._aborted = False

    def attempt(self, status: str = "online", *, poster: BeatPoster | None = None) -> Outcome:
        if not self.miner_id:
            return Outcome(OutcomeKind.CONFIG_ERROR, error="No miner id is configured.")
        metrics, system_info, resources = self._sampler.sample(self.last_latency_ms)
        body = build_heartbeat(
            miner_id=self.miner_id,
            version=__version__,
            metrics=metrics,
            system_info=system_info,
            resource_usage=resources,
            status=status,
        )
        if self._aborted and poster is None:
            return Outcome(OutcomeKind.NETWORK_ERROR, error="Cancelled.", reason=NetworkReason.CANCELLED)
        outcome = (poster or self._poster).post(body, secrets=(self.miner_id,))
        if outcome.status_code is not None:
            self.last_latency_ms = outcome.latency_ms
        return outcome

    def say_goodbye(self) -> Outcome:
        """A last 'offline' beat on a clean stop, bounded to one second; none after close()."""
        if self._poster.closed:
            return Outcome(OutcomeKind.NETWORK_ERROR, error=CANCELLED_TEXT, reason=NetworkReason.CANCELLED)
        poster = BeatPoster(self.server_url, USER_AGENT, deadline_s=min(OFFLINE_DEADLINE_S, self._deadline_s))
        try:
            return self.attempt("offline", poster=poster)
        finally:
            poster.close()

    def abort(self) -> None:
        """Any thread, final: cut the request under way and refuse every later one (the BeatCycle then
        builds a new sender), so an abort that lands while the body is being built still counts."""
        self._aborted = True
        self._poster.abort()
        self._poster.close()

    def close(self) -> None:
        """Permanent and safe from any thread: cuts the request under way, and no request follows."""
        self._poster.close()


class TestBeat:
    """One attempt for Test connection that another thread can cancel (Quit), whenever it comes."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._lock = threading.Lock()
        self._sender: BeatSender | None = None
        self._cancelled = False

    def attempt(self, miner_id: str, status: str = "online") -> Outcome:
        with self._lock:
            if self._cancelled:
                return Outcome(OutcomeKind.NETWORK_ERROR, error="Cancelled.", reason=NetworkReason.CANCELLED)
            sender = self._sender = BeatSender(self.server_url, miner_id)
        try:
            return sender.attempt(status)
        finally:
            sender.close()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            sender = self._sender
        if sender is not None:
            sender.abort()
