"""A pytest plugin (-p tests.support.platform_sim_plugin) that runs every test of a session under the
simulated platform named in POLARIS_SIMULATE: installed in process for each test, after pytest itself has
started (pytest branches on sys.platform too), undone after it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.platform_sim import install, sim_env

VARIABLE = "POLARIS_SIMULATE"
_simulated: list[str] = []  # the tests that ran under the simulation, for the summary line


def pytest_terminal_summary(terminalreporter) -> None:
    if os.environ.get(VARIABLE):
        terminalreporter.write_line(f"simulated {os.environ[VARIABLE]}: {len(_simulated)} tests")


@pytest.fixture(autouse=True)
def simulated_platform(monkeypatch, request):
    platform = os.environ.get(VARIABLE)
    if not platform:
        yield None
        return
    from polaris_tray.core.platform import win32

    home = Path(tempfile.mkdtemp(prefix="ps", dir="/tmp"))
    home.chmod(0o700)
    env = sim_env(platform, {"HOME": str(home)})
    for key in ("HOME", "USERNAME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "SystemDrive"):
        if key in env:
            monkeypatch.setenv(key, env[key])
    win32._kernel32.cache_clear()
    with monkeypatch.context() as patch:
        sim = install(platform, patch)
        _simulated.append(request.node.nodeid)
        yield sim
    win32._kernel32.cache_clear()
    shutil.rmtree(home, ignore_errors=True)
