"""The doctor's walk: each link in order, a later one skipped (with the reason) when one it needs broke.

The network links share one budget (BUDGET_S), each also bounded on its own, so the whole walk ends well
within a heartbeat's deadline plus a few seconds whatever the network does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from polaris_tray import __version__
from polaris_tray.core.config.urls import heartbeat_endpoint
from polaris_tray.core.doctor import local, network, verdict
from polaris_tray.core.doctor.probes import Deadline, host_port
from polaris_tray.core.doctor.report import Check, ok, skipped

BUDGET_S = 13.0  # the whole walk: the keyring (3 s at most) and every network step share it


@dataclass
class DoctorInput:
    server_url: str | None = None  # --server-url (or the tray's URL in use); None: the saved setting
    server_url_origin: str = "command line"  # how the line names where server_url came from
    miner_id_file: Path | None = None
    send: bool = True  # --no-send: no heartbeat at all, the verdict is not checked
    environ: Mapping[str, str] | None = None
    settings_path: Path | None = None
    home: Path | None = None
    agent: verdict.AgentState | None = None  # None: read from the one-agent lock
    budget_s: float = BUDGET_S
    now_wall: Callable[[], float] = time.time


class _Walk:
    def __init__(self, inp: DoctorInput, report: Callable[[Check], None] | None) -> None:
        self.inp = inp
        self.checks: list[Check] = []
        self._report = report

    def add(self, check: Check) -> None:
        self.checks.append(check)
        if self._report is not None:
            self._report(check)

    def skip_from(self, names: list[str], why: str) -> None:
        for name in names:
            self.add(skipped(name, why))


NET_LINKS = [
    network.DNS,
    network.PROXY,
    network.TCP,
    network.TLS,
    network.HTTP,
    verdict.VERDICT,
    verdict.CLOCK,
]


def run_doctor(inp: DoctorInput, report: Callable[[Check], None] | None = None) -> list[Check]:
    """Every line, in order; `report` is called with each line as soon as it is known (for live output)."""
    walk = _Walk(inp, report)
    deadline = Deadline(inp.budget_s)
    environ = os.environ if inp.environ is None else inp.environ
    if inp.settings_path is None:
        from polaris_tray.core.config.settings import SettingsStore

        settings_path = SettingsStore().path
    else:
        settings_path = inp.settings_path
    config, url = local.check_configuration(settings_path, inp.server_url, inp.server_url_origin)
    walk.add(config)
    keyring = local.probe_keyring() if local.needs_keyring(environ, inp.miner_id_file) else None
    found = local.find_miner_id(environ, inp.home or Path.home(), inp.miner_id_file, keyring)
    walk.add(local.check_miner(found))
    walk.add(local.check_keyring(keyring, found))
    if url is None:
        walk.skip_from(NET_LINKS, "no usable server URL")
    else:
        _network(walk, url, found.miner_id, environ, deadline)
    walk.add(local.check_gpus())
    return walk.checks


def _network(
    walk: _Walk, url: str, miner_id: str | None, environ: Mapping[str, str], deadline: Deadline
) -> None:
    inp = walk.inp
    endpoint = heartbeat_endpoint(url)
    host, port = host_port(endpoint)
    https = endpoint.lower().startswith("https://")
    proxy, proxy_problem = network.select_proxy(endpoint)
    dns, addresses = network.check_dns(host, port, deadline, proxied=proxy is not None)
    walk.add(dns)
    if dns.broken:
        return walk.skip_from(NET_LINKS[1:], "DNS failed")
    check, sock = network.check_proxy(proxy, proxy_problem, endpoint, deadline, environ)
    walk.add(check)
    if check.broken:
        return walk.skip_from(NET_LINKS[2:], "the proxy failed")
    if sock is not None:
        walk.add(ok(network.TCP, "through the proxy's tunnel"))
    else:
        check, sock = network.check_tcp(addresses, port, deadline)
        walk.add(check)
        if sock is None:
            return walk.skip_from(NET_LINKS[3:], "TCP failed")
    if https:
        check, tls_sock = network.check_tls(
            sock, host, port, deadline, trusted=network.trust_in_use(environ), now_wall=inp.now_wall()
        )
        walk.add(check)
        if tls_sock is None:
            return walk.skip_from(NET_LINKS[4:], "TLS failed")
        sock = tls_sock
    else:
        walk.add(ok(network.TLS, "not used: plain http to this computer (allowed for loopback only)"))
    check, http = network.check_http(sock, endpoint, deadline, f"PolarisHeartbeat/{__version__} (doctor)")
    walk.add(check)
    if check.broken:
        why = "no heartbeat endpoint at this URL" if http.no_endpoint else "HTTP failed"
        walk.add(skipped(verdict.VERDICT, why))
    elif not inp.send:
        walk.add(skipped(verdict.VERDICT, "not checked (--no-send): no heartbeat was sent"))
    elif not miner_id:
        walk.add(skipped(verdict.VERDICT, "no miner id to ask about"))
    else:
        agent = inp.agent if inp.agent is not None else verdict.agent_state(miner_id)
        walk.add(verdict.check_verdict(url, miner_id, agent, deadline))
    walk.add(verdict.check_clock(http.date, inp.now_wall()))
