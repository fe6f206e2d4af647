"""The few calls the beat loop makes to the outside world, fanned out to systemd and Prometheus.

Every method is cheap and never raises: a monitoring problem must not cost a heartbeat.
"""

from __future__ import annotations

import argparse
import logging

from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.service.supervisor_updates import SupervisorUpdates
from polaris_tray.service.systemd_notify import SystemdNotifier

log = logging.getLogger(__name__)


def state_line(words: str, state: LinkState, outcome: Outcome | None) -> str:
    """The line `systemctl status` shows: the tracker's words, with the error while failing."""
    failing = outcome is not None and not outcome.ok and outcome.error and state is not LinkState.ONLINE
    if failing and outcome is not None and outcome.error and outcome.error not in words:
        return f"{words}: {outcome.error}"
    return words


class ServiceHooks:
    def __init__(self, notify: SupervisorUpdates | None = None, metrics=None) -> None:
        self.notify = notify
        self.metrics = metrics

    @property
    def tick_s(self) -> float | None:
        """The longest the loop may sleep: it must come round to ping the watchdog."""
        return self.notify.ping_every_s if self.notify else None

    def watch(self, tracker, clock) -> None:
        """Prometheus reads the state from the tracker and the clock at scrape time, never a stale copy."""
        if self.metrics:
            self.metrics.follow(lambda: tracker.state(clock()))

    def state_changed(self, state: LinkState, words: str, outcome: Outcome | None) -> None:
        """Called when the state or its words may have changed (STATUS= is sent only when the line did)."""
        if self.notify:
            self.notify.status(state_line(words, state, outcome))

    def outcome(self, outcome: Outcome) -> None:
        if self.metrics:
            self.metrics.record(outcome)
        if self.notify:
            self.notify.first_outcome()

    def alive(self) -> None:
        if self.notify:
            self.notify.alive()

    def stopping(self) -> None:
        if self.notify:
            self.notify.stopping()

    def close(self) -> None:
        if self.metrics:
            self.metrics.close()


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--miner-id-file",
        metavar="PATH",
        help="read the miner id from this file (mode 600, owned by you); see 'Running on a server'",
    )
    parser.add_argument(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="serve Prometheus metrics there (headless; loopback only unless --metrics-allow-remote)",
    )
    parser.add_argument(
        "--host-root",
        metavar="PATH",
        help="read the host's figures from PATH/proc (a container with the host's /proc at /host/proc)",
    )
    parser.add_argument(
        "--fleet-key-file",
        metavar="PATH",
        help="export a keyed tag of the miner id (miner_tag), equal on every machine sharing this key",
    )
    parser.add_argument(
        "--metrics-allow-remote",
        action="store_true",
        help="let --metrics-listen use an address that is not loopback",
    )


def server_only_options(args) -> str | None:
    """The tray does not take these: say so rather than ignore them."""
    used = [
        f
        for f, v in (
            ("--miner-id-file", args.miner_id_file),
            ("--metrics-listen", args.metrics_listen),
            ("--fleet-key-file", getattr(args, "fleet_key_file", None)),
        )
        if v
    ]
    if used:
        return f"{' and '.join(used)} work with --headless (and --miner-id-file with --once), not the tray."
    return None


def start_service_hooks(args, miner_id: str | None = None) -> ServiceHooks | str:
    """The hooks for a headless run, or an error message (a bad --metrics-listen, a port in use)."""
    metrics = None
    tag = None
    if getattr(args, "fleet_key_file", None):
        from polaris_tray.service.miner_tag import fleet_tag, read_fleet_key

        if not getattr(args, "metrics_listen", None):
            return "--fleet-key-file labels the metrics: it needs --metrics-listen."
        try:
            tag = fleet_tag(read_fleet_key(args.fleet_key_file), miner_id or "")
        except ValueError as exc:
            return str(exc)
    if getattr(args, "host_root", None):
        from polaris_tray.service.host_root import use_host_root

        if problem := use_host_root(args.host_root):
            return problem
    if getattr(args, "metrics_listen", None):
        from polaris_tray.service.metrics_http import AgentMetrics, ListenError, parse_listen

        try:
            host, port = parse_listen(args.metrics_listen, allow_remote=args.metrics_allow_remote)
        except ListenError as exc:
            return str(exc)
        try:
            metrics = AgentMetrics()
            if tag:
                from polaris_tray.service.miner_tag import publish_miner_tag

                publish_miner_tag(metrics.registry, tag)
            host, port = metrics.serve(host, port)
        except ImportError:
            return "--metrics-listen needs the prometheus-client package: pip install prometheus-client"
        except OSError as exc:
            return f"Cannot serve metrics on {args.metrics_listen}: {exc.strerror or exc}"
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        log.info("Prometheus metrics on http://%s/metrics", shown)
    notifier = SystemdNotifier()
    return ServiceHooks(SupervisorUpdates(notifier) if notifier.enabled else None, metrics)
