"""The agent's counters for Prometheus, served by our own one-thread server (scrape_server.py).

Off unless --metrics-listen is given; prometheus-client is imported only then. The beat path only bumps
counters (a lock and an add); a scrape is answered by the server thread from those values, and the state
is read from the tracker with the time of the scrape: never a copy left over from the last attempt.
No label carries the miner id: it is a secret, and the scrape target already names the machine.
"""

from __future__ import annotations

import ipaddress
import platform
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from polaris_tray import __version__
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome, OutcomeKind

if TYPE_CHECKING:
    from polaris_tray.service.scrape_server import ScrapeServer

LATENCY_BUCKETS_S = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ListenError(ValueError):
    pass


def parse_listen(text: str, *, allow_remote: bool = False) -> tuple[str, int]:
    """HOST:PORT, [V6]:PORT or PORT alone (127.0.0.1). A host that is not loopback needs allow_remote."""
    text = text.strip()
    if text.isdigit():
        host, port_text = "127.0.0.1", text
    elif text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ListenError(f"--metrics-listen wants HOST:PORT (e.g. 127.0.0.1:9464), not {text!r}")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ListenError(f"--metrics-listen wants an IP address, not the name {host!r}") from None
    if not address.is_loopback and not allow_remote:
        raise ListenError(
            f"{host} is not a loopback address: the metrics would be open to the network. "
            "Add --metrics-allow-remote to mean it (and firewall the port), or use 127.0.0.1."
        )
    return host, int(port_text)


class AgentMetrics:
    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
        from prometheus_client.process_collector import ProcessCollector

        self._wall = wall
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.attempts = Counter(
            "polaris_heartbeat_attempts", "Heartbeat attempts by outcome.", ["outcome"], registry=r
        )
        for kind in OutcomeKind:
            self.attempts.labels(kind.value)  # every outcome shows from the start, at 0
        self.last_success = Gauge(
            "polaris_heartbeat_last_success_timestamp_seconds",
            "Unix time of the last heartbeat the orchestrator accepted (0: none yet).",
            registry=r,
        )
        self.consecutive_failures = Gauge(
            "polaris_heartbeat_consecutive_failures",
            "Failed attempts since the last accepted one.",
            registry=r,
        )
        self._state = _StateCollector(lambda: LinkState.CONNECTING)
        r.register(self._state)
        self.latency = Histogram(
            "polaris_heartbeat_latency_seconds",
            "Time from request to the orchestrator's answer (attempts that got an answer).",
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        Info("polaris_agent_build", "The agent's build.", registry=r).info(
            {"version": __version__, "python": platform.python_version()}
        )
        self._server: ScrapeServer | None = None

    def record(self, outcome: Outcome) -> None:
        self.attempts.labels(outcome.kind.value).inc()
        if outcome.ok:
            self.last_success.set(self._wall())
            self.consecutive_failures.set(0)
        else:
            self.consecutive_failures.inc()
        if outcome.status_code is not None:
            self.latency.observe(outcome.latency_ms / 1000)

    def follow(self, state_now: Callable[[], LinkState]) -> None:
        """Where the state comes from at scrape time (the tracker and the clock; thread-safe)."""
        self._state.state_now = state_now

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    def serve(self, host: str, port: int) -> tuple[str, int]:
        """Starts the HTTP thread; returns the address it listens on (port 0 picks a free one)."""
        from polaris_tray.service.scrape_server import ScrapeServer

        self._server = ScrapeServer(host, port, self.render)
        return host, self._server.address[1]

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


class _StateCollector:
    """polaris_agent_state as prometheus_client's Enum showed it, but asked at each scrape."""

    def __init__(self, state_now: Callable[[], LinkState]) -> None:
        self.state_now = state_now

    def collect(self):
        from prometheus_client.metrics_core import StateSetMetricFamily

        current = self.state_now()
        yield StateSetMetricFamily(
            "polaris_agent_state",
            "Whether the orchestrator counts this agent online now, in the tray's states.",
            {s.value: s is current for s in LinkState},
        )

    def describe(self):
        return []
