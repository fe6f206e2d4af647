"""The agent on real networks: a private network namespace (only `lo`), a stand-in DNS server, an office
resolver, CONNECT proxies that hang or drip, a dual-stack name whose IPv6 address drops connections, and
a company CA in a private copy of the system trust store. The agent runs as real processes
(`polaris-tray --once`, `--headless`); in-process posters where that is enough.

Each `scenario_*` function runs inside the namespace (tests.support.netns) and returns what it saw; the
test beside it asserts. What they guard against, as it once was: a silent DNS server held `--once` for
20 s (80 s with the office resolver), a dripping proxy for ever, a black-holed IPv6 address cost every beat
10 s, and a CA installed with update-ca-certificates was not trusted.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import netns
from tests.support.connect_proxy import DRIP_CONNECT, DRIP_TUNNEL, NEEDS_AUTH, SILENT, ConnectProxy
from tests.support.dns_stub import AAAA_SILENT, ANSWER, NXDOMAIN, SERVFAIL, SLOW, DnsStub
from tests.support.dns_stub import SILENT as DNS_SILENT
from tests.support.hostile import OK, HostileServer
from tests.support.netns import DNS_A, DNS_B, NAME, OFFICE, ONE_SERVER

MINER = "miner-abcdef123456"
ONCE_LIMIT_S = 12.5

_why = netns.unavailable()
pytestmark = pytest.mark.skipif(_why is not None, reason=f"private network namespace: {_why}")


# --- helpers that run inside the namespace -----------------------------------------------------------


def _server(pki: dict, shape=OK) -> HostileServer:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    return HostileServer(shape, tls=ctx)


def _port(server: HostileServer) -> int:
    return int(server.url.rsplit(":", 1)[1].split("/")[0])


def _agent_command() -> list[str]:
    script = Path(sys.executable).parent / "polaris-tray"
    return [str(script)] if script.exists() else [sys.executable, "-m", "polaris_tray"]


def _env(ca: str | None, **extra: str) -> dict:
    if ca:
        extra = {"REQUESTS_CA_BUNDLE": ca, **extra}
    return netns.agent_env(MINER, "polaris-netns", PYTHONUNBUFFERED="1", **extra)


def _start_once(url: str, env: dict) -> tuple[subprocess.Popen, float]:
    proc = subprocess.Popen(
        [*_agent_command(), "--once", "--server-url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, time.monotonic()


def _finish_once(proc: subprocess.Popen, started: float) -> dict:
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - started
    lines = [line for line in out.splitlines() if line.startswith("{")]
    verdict = json.loads(lines[-1]) if lines else {}
    return {"rc": proc.returncode, "elapsed": elapsed, "verdict": verdict, "stderr": err[-2000:]}


def _once(url: str, env: dict) -> dict:
    return _finish_once(*_start_once(url, env))


def scenario_deadline_phases(pki: dict) -> dict:
    """One silent nameserver; proxies that never answer, drip their CONNECT reply, drip the tunnel, or
    want other credentials than the URL's; and a headless agent stopped by SIGTERM during its lookup."""
    results: dict = {}
    with DnsStub(DNS_A, mode=DNS_SILENT) as dns, _server(pki) as server:
        url = f"https://{NAME}:{_port(server)}/api/v1"
        upstream = ("127.0.0.1", _port(server))
        # Headless first, alone, so the stub's first query is its own.
        proc = subprocess.Popen(
            [*_agent_command(), "--headless", "--server-url", url, "--interval", "10"],
            env=_env(pki["ca"]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        queried = dns.wait_for_query(30)  # the lookup is under way (glibc waits 5 s for an answer)
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        try:
            _out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        results["headless_sigterm"] = {
            "queried": queried,
            "rc": proc.returncode,
            "exit_after": time.monotonic() - stopped,
            "stderr": err[-2000:],
        }
        proxies = {
            "proxy_silent": ConnectProxy(SILENT, upstream=upstream),
            "proxy_drip_connect": ConnectProxy(DRIP_CONNECT, upstream=upstream, every=1.0),
            "proxy_drip_tunnel": ConnectProxy(DRIP_TUNNEL, upstream=upstream, every=1.0),
            "proxy_407": ConnectProxy(NEEDS_AUTH, upstream=upstream, credentials="alice:right"),
        }
        try:
            # Each starts once the one before is in its network phase: interpreters starting side by
            # side on a busy machine would measure the machine, not the deadline.
            asked = len(dns.queries)
            running = {"dns_silent": _start_once(url, _env(pki["ca"]))}
            dns.wait_for_query(30, count=asked + 1)
            for name, proxy in proxies.items():
                userinfo = "alice:s3cret-pw" if name == "proxy_407" else ""
                running[name] = _start_once(url, _env(pki["ca"], HTTPS_PROXY=proxy.url(userinfo)))
                proxy.wait_for(1, timeout=30)
            for name, (proc, started) in running.items():
                results[name] = _finish_once(proc, started)
            results["proxy_addresses"] = {name: proxy.address for name, proxy in proxies.items()}
        finally:
            for proxy in proxies.values():
                proxy.stop()
    return results


def scenario_office_resolver(pki: dict) -> dict:
    with DnsStub(DNS_A, mode=DNS_SILENT), DnsStub(DNS_B, mode=DNS_SILENT), _server(pki) as server:
        return _once(f"https://{NAME}:{_port(server)}/api/v1", _env(pki["ca"]))


def scenario_dns_answers(pki: dict) -> dict:
    """In-process: NXDOMAIN, SERVFAIL and a slow (2 s) answer from the one nameserver."""
    from polaris_tray.core.heartbeat.poster import BeatPoster

    os.environ["REQUESTS_CA_BUNDLE"] = pki["ca"]
    results = {}
    with DnsStub(DNS_A, {NAME: ["127.0.0.1"]}) as dns, _server(pki) as server:
        for mode in (NXDOMAIN, SERVFAIL, SLOW, ANSWER):
            dns.mode, dns.delay = mode, 2.0
            poster = BeatPoster(f"https://{NAME}:{_port(server)}/api/v1", "ua")
            started = time.monotonic()
            out = poster.post({"x": 1})
            poster.close()
            results[mode] = {"elapsed": time.monotonic() - started, **out.as_json()}
    return results


def scenario_aaaa_swallowed(pki: dict) -> dict:
    """A nameserver that answers A at once and never answers AAAA (a home router or middlebox that drops
    IPv6 queries): --once three times, and the in-process lookup the beat does."""
    from polaris_tray.core.platform.resolve import Resolver

    with DnsStub(DNS_A, {NAME: ["127.0.0.1", "::1"]}, mode=AAAA_SILENT) as dns, _server(pki) as server:
        url = f"https://{NAME}:{_port(server)}/api/v1"
        runs = [_once(url, _env(pki["ca"])) for _ in range(3)]
        started = time.monotonic()
        found = Resolver().resolve(NAME, 443, timeout=10.0)
        lookup = {"elapsed": time.monotonic() - started, "families": [info[0].name for info in found]}
        asked = sorted({qtype for _name, qtype in dns.queries})
    return {"runs": runs, "lookup": lookup, "asked": asked}


def scenario_black_holed_ipv6(pki: dict) -> dict:
    from polaris_tray.core.heartbeat.poster import BeatPoster

    os.environ["REQUESTS_CA_BUNDLE"] = pki["ca"]
    with DnsStub(DNS_A, {NAME: [netns.BLACK_HOLE_V6, "127.0.0.1"]}), _server(pki) as server:
        url = f"https://{NAME}:{_port(server)}/api/v1"
        order = [info[0].name for info in socket.getaddrinfo(NAME, 443, type=socket.SOCK_STREAM)]
        probe = socket.socket(socket.AF_INET6)
        probe.settimeout(1.0)
        try:
            probe.connect((netns.BLACK_HOLE_V6, _port(server)))
            dropped = False
        except TimeoutError:
            dropped = True
        except OSError:
            dropped = False
        finally:
            probe.close()
        in_process = []
        for _ in range(5):
            poster = BeatPoster(url, "ua")  # a fresh poster: a fresh connect every time
            started = time.monotonic()
            out = poster.post({"x": 1})
            in_process.append({"ok": out.ok, "elapsed": time.monotonic() - started, "error": out.error})
            poster.close()
        processes = [_once(url, _env(pki["ca"])) for _ in range(3)]
    return {"order": order, "dropped": dropped, "in_process": in_process, "processes": processes}


def scenario_system_store_ca(pki: dict) -> dict:
    with DnsStub(DNS_A, {NAME: ["127.0.0.1"]}), _server(pki) as server:
        url = f"https://{NAME}:{_port(server)}/api/v1"
        before = _once(url, _env(None))
        netns.install_system_ca(pki["ca"])
        after = _once(url, _env(None))
        env_seen = sorted(k for k in _env(None) if "CA_BUNDLE" in k or k.startswith("SSL_CERT"))
    return {"before": before, "after": after, "ca_variables": env_seen}


# --- the tests ---------------------------------------------------------------------------------------


def test_every_phase_ends_within_the_deadline_and_says_which(pki):
    r = netns.run_in_netns(scenario_deadline_phases, resolv=ONE_SERVER, pki=pki)
    proxy = r["proxy_addresses"]
    expected = {
        "dns_silent": f"Cannot resolve {NAME} (DNS did not answer in 10 s).",
        "proxy_silent": f"The proxy {proxy['proxy_silent']} did not answer within 10 s.",
        "proxy_drip_connect": f"The proxy {proxy['proxy_drip_connect']} did not answer within 10 s.",
        "proxy_drip_tunnel": (
            f"TLS: no handshake with {NAME} within 10 s (through the proxy {proxy['proxy_drip_tunnel']})."
        ),
    }
    for case, message in expected.items():
        seen = r[case]
        print(f"{case}: exit {seen['rc']} after {seen['elapsed']:.2f} s: {seen['verdict'].get('error')}")
        assert seen["rc"] == 1, (case, seen)
        assert seen["elapsed"] < ONCE_LIMIT_S, (case, seen)
        assert seen["verdict"]["error"] == message, (case, seen)
    auth = r["proxy_407"]
    assert auth["rc"] == 1 and auth["verdict"]["reason"] == "proxy_auth", auth
    assert auth["verdict"]["error"].startswith(f"The proxy {proxy['proxy_407']} needs credentials (HTTP 407)")
    assert "s3cret-pw" not in json.dumps(auth), auth  # neither stdout's verdict nor stderr
    stop = r["headless_sigterm"]
    print(f"headless: SIGTERM during the lookup, exit {stop['rc']} after {stop['exit_after']:.2f} s")
    assert stop["queried"], stop
    assert stop["rc"] == 0, stop
    assert stop["exit_after"] < 2.0, stop


def test_an_office_resolver_with_two_silent_servers_ends_within_the_deadline(pki):
    seen = netns.run_in_netns(scenario_office_resolver, resolv=OFFICE, pki=pki)
    print(f"office resolv.conf: exit {seen['rc']} after {seen['elapsed']:.2f} s")
    assert seen["rc"] == 1 and seen["elapsed"] < ONCE_LIMIT_S, seen
    assert seen["verdict"]["error"] == f"Cannot resolve {NAME} (DNS did not answer in 10 s).", seen


def test_dns_answers_name_the_fault(pki):
    r = netns.run_in_netns(scenario_dns_answers, resolv=ONE_SERVER, pki=pki)
    assert r[NXDOMAIN]["reason"] == "dns", r
    assert r[NXDOMAIN]["error"] == f"Cannot resolve the server name {NAME}: no such name (DNS)."
    assert r[SERVFAIL]["reason"] == "dns", r
    assert "the DNS server failed or did not answer" in r[SERVFAIL]["error"]
    assert r[SLOW]["ok"] and 2.0 <= r[SLOW]["elapsed"] < 5.0, r  # slow but within the deadline
    assert r[ANSWER]["ok"], r


def test_a_nameserver_that_swallows_aaaa_costs_under_a_second(pki):
    """Before, glibc waited for the AAAA answer that never came (5 s per try, two tries), so every beat
    spent its 10 s deadline in the lookup and timed out, although the A answer came at once."""
    r = netns.run_in_netns(scenario_aaaa_swallowed, resolv=ONE_SERVER, pki=pki, timeout=150)
    print("lookup:", r["lookup"], "--once ms:", [run["verdict"].get("latency_ms") for run in r["runs"]])
    assert r["asked"] == [1, 28], r  # A and AAAA were both asked: the stub really swallowed one
    assert r["lookup"]["families"] == ["AF_INET"] and r["lookup"]["elapsed"] < 1.0, r["lookup"]
    for run in r["runs"]:
        assert run["rc"] == 0 and run["verdict"]["ok"], run
        assert run["verdict"]["latency_ms"] < 1000, run


def test_a_black_holed_ipv6_address_costs_under_a_second_every_time(pki):
    r = netns.run_in_netns(scenario_black_holed_ipv6, resolv=ONE_SERVER, black_hole_v6=True, pki=pki)
    assert r["order"][0] == "AF_INET6" and r["dropped"], r  # else this test would prove nothing
    for attempt in r["in_process"]:
        assert attempt["ok"] and attempt["elapsed"] < 1.0, r["in_process"]
    for run in r["processes"]:
        assert run["rc"] == 0 and run["verdict"]["ok"], run
        assert run["verdict"]["latency_ms"] < 1000, run
    print("in-process:", [round(a["elapsed"], 3) for a in r["in_process"]])
    print("--once latency ms:", [p["verdict"]["latency_ms"] for p in r["processes"]])


def test_a_ca_in_the_system_trust_store_is_trusted_with_no_variable_set(pki):
    r = netns.run_in_netns(scenario_system_store_ca, resolv=ONE_SERVER, pki=pki)
    assert r["ca_variables"] == [], r
    assert r["before"]["rc"] == 1 and "not trusted" in r["before"]["verdict"]["error"], r["before"]
    assert r["after"]["rc"] == 0 and r["after"]["verdict"]["ok"], r["after"]


def test_scenarios_run_in_parallel_safely():
    """The namespace helper itself: two namespaces at once see only their own resolv.conf."""
    seen: list = []

    def one(text):
        seen.append(netns.run_in_netns(scenario_read_resolv, resolv=text))

    threads = [threading.Thread(target=one, args=(f"nameserver 127.53.53.{n}\n",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(s["resolv"] for s in seen) == ["nameserver 127.53.53.1\n", "nameserver 127.53.53.2\n"]
    assert all(s["interfaces"] == ["lo"] for s in seen), seen


def scenario_read_resolv() -> dict:
    return {
        "resolv": Path("/etc/resolv.conf").read_text(),
        "interfaces": sorted(n for _i, n in socket.if_nameindex()),
    }


def scenario_proxy_wedges_mid_run(pki: dict, notify_path: str) -> dict:
    """Headless as a Type=notify service through a proxy that wedges after two accepted beats: when do the
    log, STATUS= and Prometheus leave "online" and then say "Offline" (the orchestrator stops counting 45 s
    after the last accepted beat), do the WATCHDOG=1 pings keep coming, and does a SIGTERM in the middle
    of a stuck attempt end the agent cleanly."""
    import re
    import urllib.request

    from tests.support.notify_socket import NotifySocket

    with _server(pki) as server, ConnectProxy(upstream=("127.0.0.1", _port(server))) as proxy:
        sock = NotifySocket(Path(notify_path))
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            metrics_port = free.getsockname()[1]
        env = _env(pki["ca"], HTTPS_PROXY=proxy.url(), NOTIFY_SOCKET=sock.path, WATCHDOG_USEC="30000000")
        url = f"https://{NAME}:{_port(server)}/api/v1"
        argv = ["--headless", "--server-url", url, "--interval", "10"]
        argv += ["--metrics-listen", f"127.0.0.1:{metrics_port}"]
        proc = subprocess.Popen([*_agent_command(), *argv], env=env, stderr=subprocess.PIPE, text=True)
        log: list[tuple[float, str]] = []
        threading.Thread(
            target=lambda: [log.append((time.monotonic(), line)) for line in proc.stderr], daemon=True
        ).start()
        scrapes: list[tuple[float, bool]] = []
        stop_scraping = threading.Event()
        metric_left_online = threading.Event()
        metric_offline: list[float] = []
        accepted_twice = threading.Event()
        wedged_at = float("inf")

        def scrape() -> None:
            while not stop_scraping.wait(0.5):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as r:
                        text = r.read().decode()
                except OSError:
                    continue
                accepted = re.search(
                    r'^polaris_heartbeat_attempts_total\{outcome="accepted"\} (\S+)$', text, re.M
                )
                if accepted and float(accepted.group(1)) >= 2:
                    accepted_twice.set()
                found = re.search(r'^polaris_agent_state\{polaris_agent_state="online"\} (\S+)$', text, re.M)
                if found:
                    scrapes.append((time.monotonic(), float(found.group(1)) == 1.0))
                    if scrapes[-1][0] > wedged_at and not scrapes[-1][1]:
                        metric_left_online.set()
                offline = re.search(
                    r'^polaris_agent_state\{polaris_agent_state="offline"\} 1\.0$', text, re.M
                )
                if offline and not metric_offline:
                    metric_offline.append(time.monotonic())

        threading.Thread(target=scrape, daemon=True).start()
        result: dict = {}
        try:
            two_beats = accepted_twice.wait(40) and len(server.arrivals) == 2  # the agent has both replies
            last_accepted = server.arrivals[1] if two_beats else time.monotonic()
            proxy.wedge()
            wedged_at = time.monotonic()
            # Watch until every view has left "online" (or 50 s after the last accepted beat).
            status_off = sock.wait_for(
                lambda m: "STATUS" in m and not m["STATUS"].startswith("Online"), timeout=50, after=wedged_at
            )
            metric_left_online.wait(max(0.0, last_accepted + 50 - time.monotonic()))
            # The orchestrator stops counting the miner 45 s after the last accepted beat: so must we.
            status_offline = sock.wait_for(
                lambda m: m.get("STATUS", "").startswith("Offline"),
                timeout=max(0.0, last_accepted + 60 - time.monotonic()),
                after=wedged_at,
            )
            seen = len(proxy.seen)
            proxy.wait_for(seen + 1, timeout=30)  # an attempt is stuck at the proxy now
            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            exit_after = time.monotonic() - signalled
        finally:
            stop_scraping.set()
            if proc.poll() is None:
                proc.kill()
            sock.close()
        metric_off = next((at for at, on in scrapes if at > wedged_at and not on), None)
        log_off = next(
            (
                at
                for at, line in log
                if at > wedged_at and ("retrying" in line.lower() or "offline" in line.lower())
            ),
            None,
        )
        log_offline = next((at for at, line in log if at > wedged_at and "-> offline" in line), None)
        pings = [at for at, m in sock.messages if m.get("WATCHDOG") == "1" and at <= signalled]
        result.update(
            accepted_twice=two_beats,
            status_off=None if status_off is None else status_off[0] - last_accepted,
            status_line=None if status_off is None else status_off[1]["STATUS"],
            metric_off=None if metric_off is None else metric_off - last_accepted,
            log_off=None if log_off is None else log_off - last_accepted,
            status_offline=None if status_offline is None else status_offline[0] - last_accepted,
            metric_offline=metric_offline[0] - last_accepted if metric_offline else None,
            log_offline=None if log_offline is None else log_offline - last_accepted,
            ping_gaps=[b - a for a, b in itertools.pairwise(pings)],
            pings=len(pings),
            rc=rc,
            exit_after=exit_after,
            log=[line for _at, line in log][-15:],
        )
    return result


def test_headless_through_a_proxy_that_wedges_leaves_online_in_time(pki, tmp_path):
    r = netns.run_in_netns(
        scenario_proxy_wedges_mid_run, resolv=ONE_SERVER, pki=pki, notify_path=str(tmp_path / "notify.sock")
    )
    print(
        f"after the last accepted beat: STATUS= left online at {r['status_off']} s ({r['status_line']!r}), "
        f"Prometheus at {r['metric_off']} s, the log at {r['log_off']} s; WATCHDOG gaps max "
        f"{max(r['ping_gaps'], default=0):.1f} s; SIGTERM: exit {r['rc']} after {r['exit_after']:.2f} s"
    )
    assert r["accepted_twice"], r
    for view in ("status_off", "metric_off", "log_off"):
        assert r[view] is not None and r[view] <= 45.0, (view, r)
    # ... and says "not counted" no later than the orchestrator stops counting (a timer's slack allowed)
    print(
        f"offline: STATUS= at {r['status_offline']} s, Prometheus at {r['metric_offline']} s, "
        f"the log at {r['log_offline']} s after the last accepted beat"
    )
    for view in ("status_offline", "metric_offline", "log_offline"):
        assert r[view] is not None and r[view] <= 45.0 + 1.5, (view, r)
    assert r["pings"] >= 3 and max(r["ping_gaps"]) <= 15.0, r
    assert r["rc"] == 0 and r["exit_after"] < 2.0, r
