"""The tray started with a DISPLAY that names no running X server (a stale ssh -X forwarding, a login
script exporting a display that is gone): a sentence naming the display and exit 2, never Qt's abort."""

import pytest

from tests.support.app import app_env, run_app
from tests.support.services import _display_free

pytestmark = pytest.mark.linux(reason="X display numbers and Qt's xcb plugin")


def test_a_display_nobody_serves_is_named_and_the_app_exits_cleanly(home, orchestrator):
    number = next(n for n in range(300, 400) if _display_free(n))
    env = app_env(home, DISPLAY=f":{number}.0")
    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE"):
        env.pop(name, None)
    result = run_app(["--server-url", orchestrator.url], env)
    assert result.returncode == 2, (result.returncode, result.stderr)  # not -6 (SIGABRT) nor a core dump
    assert "cannot reach the graphical display" in result.stderr
    assert f"/tmp/.X11-unix/X{number} (DISPLAY=:{number}.0)" in result.stderr
    assert "--headless" in result.stderr and "Check DISPLAY" in result.stderr
    assert "could not connect to display" not in result.stderr and orchestrator.arrivals == []


def test_a_gone_wayland_with_a_gone_x_is_refused_too(home, orchestrator, tmp_path):
    number = next(n for n in range(300, 400) if _display_free(n))
    env = app_env(home, DISPLAY=f":{number}", WAYLAND_DISPLAY="wayland-gone", XDG_RUNTIME_DIR=str(tmp_path))
    env.pop("QT_QPA_PLATFORM", None)
    result = run_app(["--server-url", orchestrator.url], env)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert f"no Wayland compositor answers at {tmp_path}/wayland-gone" in result.stderr
    assert f"X{number}" in result.stderr and orchestrator.arrivals == []


def scenario_remote_display_with_a_silent_resolver() -> dict:
    """Inside a private network: an office resolv.conf whose two servers never answer, and a DISPLAY on a
    host by name (an ssh or thin-client setup). The app is a real process; how long until it says so."""
    import subprocess
    import sys
    import time

    from tests.support import netns
    from tests.support.dns_stub import SILENT, DnsStub

    env = netns.agent_env("miner-abcdef123456", "display", DISPLAY="xhost.corp.example:10")
    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):  # the suite's offscreen would need no display
        env.pop(name, None)
    with DnsStub(netns.DNS_A, mode=SILENT) as dns, DnsStub(netns.DNS_B, mode=SILENT):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "polaris_tray", "--server-url", "http://127.0.0.1:9/api/v1"],
            env=env,
            cwd=netns.ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.monotonic() - started
        queried = len(dns.queries)
        return {"rc": result.returncode, "stderr": result.stderr, "elapsed": elapsed, "queried": queried}


def test_a_remote_display_behind_a_silent_resolver_is_named_within_seconds():
    """Before, the display's name lookup had no bound of its own: the launch sat in glibc's resolver for
    its 5 s per try, per server, per search domain before the message came."""
    from tests.support import netns

    why = netns.unavailable()
    if why is not None:
        pytest.skip(f"private network namespace: {why}")
    scenario = scenario_remote_display_with_a_silent_resolver
    seen = netns.run_in_netns(scenario, resolv=netns.OFFICE, timeout=150)
    print(f"remote display, silent resolvers: exit {seen['rc']} after {seen['elapsed']:.2f} s")
    assert seen["queried"], seen  # the lookup really went to the silent servers
    assert seen["rc"] == 2, seen
    assert "xhost.corp.example:6010 (TCP)" in seen["stderr"] and "--headless" in seen["stderr"], seen
    assert seen["elapsed"] < 5.0, seen
