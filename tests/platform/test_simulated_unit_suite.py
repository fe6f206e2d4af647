"""The core's unit tests that hold on every OS, run again under each simulated platform (a child pytest
with tests/support/platform_sim_plugin.py installing the simulation around every test).

Not every unit test belongs here: some test Linux facts on purpose (systemd's socket, ~/.config, file
modes), and the deadline's tests need the transport to cut through socket.dup() on Windows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support.app import ROOT

PORTABLE = (
    "tests/unit/test_state.py",
    "tests/unit/test_cycle.py",
    "tests/unit/test_run_plan.py",
    "tests/unit/test_payload_and_metrics.py",
    "tests/unit/test_uptime.py",
    "tests/unit/test_wake.py",
    "tests/unit/test_history_per_miner.py",
)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_portable_unit_tests_pass_under_the_simulated_platform(platform):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "POLARIS_"))}
    env["POLARIS_SIMULATE"] = platform
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "tests.support.platform_sim_plugin", "--timeout", "60", *PORTABLE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    ran = re.search(r"(\d+) passed", result.stdout)
    assert ran and "failed" not in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
    assert f"simulated {platform}: {ran.group(1)} tests" in result.stdout  # every one of them simulated
