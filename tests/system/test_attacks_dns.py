"""Attack on the resolver: an office resolv.conf whose two nameservers answer only after
30 s, again and again, under a headless agent that retries for half a minute. The lookups are single
flight (core/platform/resolve.py): the agent's threads and descriptors must stay flat however many
attempts time out, and every attempt must still end within its deadline. Inside a private network
namespace with only `lo`."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import netns
from tests.support.dns_stub import SLOW, DnsStub
from tests.system.test_real_networks import DNS_A, DNS_B, NAME, OFFICE, _agent_command, _env

_why = netns.unavailable()
pytestmark = pytest.mark.skipif(_why is not None, reason=f"private network namespace: {_why}")

WATCH_S = 35.0


def _threads_and_fds(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
    return threads, len(os.listdir(f"/proc/{pid}/fd"))


def scenario_dns_answers_after_30_s() -> dict:
    with (
        DnsStub(DNS_A, {NAME: ["127.0.0.1"]}, mode=SLOW, delay=30),
        DnsStub(DNS_B, {NAME: ["127.0.0.1"]}, mode=SLOW, delay=30) as second,
    ):
        url = f"https://{NAME}:9/api/v1"
        proc = subprocess.Popen(
            [*_agent_command(), "--headless", "--server-url", url, "--interval", "0.5"],
            env=_env(None),
            stderr=subprocess.PIPE,
            text=True,
        )
        samples = []
        try:
            end = time.monotonic() + WATCH_S
            while time.monotonic() < end and proc.poll() is None:
                samples.append(_threads_and_fds(proc.pid))
                time.sleep(0.5)
        finally:
            proc.terminate()
            try:
                _out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                _out, err = proc.communicate()
        queries = len(second.queries)
    dns_lines = [line for line in err.splitlines() if "Cannot resolve" in line]
    return {
        "samples": samples,
        "rc": proc.returncode,
        "dns_lines": dns_lines[-3:],
        "queries_b": queries,
        "log": err.splitlines()[-8:],
    }


def test_a_resolver_that_answers_after_30_s_piles_up_no_threads(tmp_path):
    r = netns.run_in_netns(scenario_dns_answers_after_30_s, resolv=OFFICE, timeout=120)
    threads = [t for t, _f in r["samples"]]
    fds = [f for _t, f in r["samples"]]
    print(f"threads {min(threads)}..{max(threads)}, descriptors {min(fds)}..{max(fds)}; {r['dns_lines']}")
    assert len(r["samples"]) > 40, r  # it ran the whole time
    assert r["dns_lines"], r["log"]  # attempts failed as DNS, within their deadline
    # After the first attempt: one lookup thread at most beside the agent's own threads, nothing growing.
    settled = threads[len(threads) // 4 :]
    assert max(settled) - min(settled) <= 2, threads
    assert max(fds[len(fds) // 4 :]) - min(fds[len(fds) // 4 :]) <= 4, fds
    assert r["rc"] == 0, r["log"]
