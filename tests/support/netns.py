"""Run a scenario inside a private network and mount namespace: only `lo`, its own /etc/resolv.conf and
/etc/hosts, and, on request, a black-holed IPv6 address or a private copy of the system trust store.

    result = run_in_netns(scenario_fn, resolv="nameserver 127.53.53.53\\n", hosts="", **kwargs)

`scenario_fn` is a module-level function; it runs in a fresh interpreter inside the namespace (as root,
`unshare -m -n --propagation private`), gets **kwargs, and returns a JSON-able dict, which comes back
here. Nothing it does can reach the machine's real network or files: the mounts vanish with it.

Also what the suites that use it share of the stand-in network: the orchestrator's name, two nameservers
on loopback, an office resolv.conf and an agent's clean environment (its certificates, the `pki` fixture,
are in tests/system/conftest.py).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
_MARK = "NETNS-RESULT "
BLACK_HOLE_V6 = "2001:db8:53::2"  # documentation prefix: never routed anywhere real

NAME = "orch.corp.example"  # the orchestrator's name on the stand-in network
DNS_A, DNS_B = "127.53.53.53", "127.53.53.54"  # stand-in nameservers (tests.support.dns_stub)
ONE_SERVER = f"nameserver {DNS_A}\n"
OFFICE = f"nameserver {DNS_A}\nnameserver {DNS_B}\nsearch corp.example\n"  # two servers, a search domain


def agent_env(miner: str, prefix: str, **extra: str) -> dict[str, str]:
    """An agent's environment inside the namespace: nothing of the outside's proxies, CA bundles, desktop
    or Polaris settings; a home and an instance name of its own."""
    drop = ("PROXY", "CA_BUNDLE", "SSL_CERT_", "XDG_", "DBUS_", "POLARIS_", "DISPLAY")
    env = {k: v for k, v in os.environ.items() if not any(d in k.upper() for d in drop)}
    home = tempfile.mkdtemp(prefix=f"{prefix}-")
    instance = f"{prefix}-{Path(home).name}"
    env.update(HOME=home, POLARIS_MINER_ID=miner, POLARIS_TRAY_INSTANCE=instance, **extra)
    return env


def unavailable() -> str | None:
    """Why a private network namespace cannot be made here, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root for unshare -n (CI runs as root)"
    for tool in ("unshare", "ip", "mount"):
        if not shutil.which(tool):
            return f"needs {tool}"
    probe = subprocess.run(
        ["unshare", "-m", "-n", "--propagation", "private", "true"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"unshare -m -n is not permitted here: {probe.stderr.strip()}"
    return None


def run_in_netns(
    fn, *, resolv: str, hosts: str = "", black_hole_v6: bool = False, timeout: float = 90, **kwargs
):
    spec = {
        "module": fn.__module__,
        "function": fn.__name__,
        "kwargs": kwargs,
        "resolv": resolv,
        "hosts": "127.0.0.1 localhost\n::1 localhost\n" + hosts,
        "black_hole_v6": black_hole_v6,
    }
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        ["unshare", "-m", "-n", "--propagation", "private", sys.executable, "-m", "tests.support.netns"],
        input=json.dumps(spec),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    if proc.returncode != 0 or not lines:
        raise AssertionError(
            f"scenario {fn.__name__} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return json.loads(lines[-1][len(_MARK) :])


def install_system_ca(ca_pem: str) -> None:
    """Inside the namespace: a private copy of the system store (/etc/ssl/certs and
    /usr/local/share/ca-certificates) with this CA added by update-ca-certificates, as an administrator
    installs a company's TLS-inspection CA."""
    work = Path(tempfile.mkdtemp(prefix="netns-ca-"))
    for real, name in (("/etc/ssl/certs", "certs"), ("/usr/local/share/ca-certificates", "local")):
        copy = work / name
        if Path(real).is_dir():
            shutil.copytree(real, copy, symlinks=True)
        else:
            copy.mkdir()
            Path(real).mkdir(parents=True, exist_ok=True)
        _run("mount", "--bind", str(copy), real)
    shutil.copy(ca_pem, "/usr/local/share/ca-certificates/polaris-test-inspection-ca.crt")
    _run("update-ca-certificates", "--fresh")


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True)


def _black_hole(address: str) -> None:
    """An IPv6 address on lo whose TCP connects are dropped, as on a half-configured IPv6 network."""
    _run("ip", "-6", "addr", "add", f"{address}/128", "dev", "lo", "nodad")
    ruleset = (
        "table inet polaris_black_hole {\n"
        "  chain out { type filter hook output priority 0; policy accept;\n"
        f"    ip6 daddr {address} tcp flags syn drop\n"
        "  }\n}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=ruleset, check=True, capture_output=True, text=True)


def _inside(spec: dict) -> dict:
    _run("ip", "link", "set", "lo", "up")
    work = Path(tempfile.mkdtemp(prefix="netns-etc-"))
    try:
        for name in ("resolv.conf", "hosts"):
            private = work / name
            private.write_text(spec["resolv" if name == "resolv.conf" else "hosts"])
            private.chmod(0o644)
            _run("mount", "--bind", str(private), str(Path("/etc") / Path(name).name))
        if spec["black_hole_v6"]:
            _black_hole(BLACK_HOLE_V6)
        fn = getattr(importlib.import_module(spec["module"]), spec["function"])
        return fn(**spec["kwargs"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    result = _inside(json.loads(sys.stdin.read()))
    print(_MARK + json.dumps(result), flush=True)
