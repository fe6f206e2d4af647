"""Attacks through the proxy variables (issue 20 item 5): a proxy URL a user typed with a raw special
character in its password. The agent, --once and the doctor must refuse it with a sentence (never an
internal error, never a traceback) and never show the password. Run in a private network namespace with
only `lo`, so nothing can reach a real host whatever the code does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import netns
from tests.support.app import ROOT, app_env

PASSWORD = "s3cr]t"  # a raw "]": urlsplit raises "Invalid IPv6 URL" on the whole URL
SERVER = "https://192.0.2.10/api/v1"  # TEST-NET-1: never routed anywhere real

pytestmark = pytest.mark.skipif(netns.unavailable() is not None, reason=str(netns.unavailable()))


def run_isolated(args: list[str], env: dict) -> subprocess.CompletedProcess:
    command = "ip link set lo up && exec " + " ".join([sys.executable, "-m", "polaris_tray", *args])
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(home):
    return app_env(home, HTTPS_PROXY=f"http://alice:{PASSWORD}@127.0.0.1:3128")


def test_once_refuses_an_unreadable_proxy_url_with_a_sentence(env):
    result = run_isolated(["--once", "--server-url", SERVER], env)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Internal error" not in text and "Traceback" not in text, text
    assert "config_error" in result.stdout and "HTTPS_PROXY" in text and "cannot be read" in text, text
    assert PASSWORD not in text and "alice" not in text


def test_the_doctor_names_the_unreadable_proxy_url(env):
    result = run_isolated(["--doctor", "--no-send", "--server-url", SERVER], env)
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    proxy = next(line for line in result.stdout.splitlines() if line[2:].startswith("Proxy:"))
    assert proxy.startswith("✘") and "HTTPS_PROXY" in proxy and "cannot be read" in proxy, result.stdout
    assert PASSWORD not in text and "alice" not in text
