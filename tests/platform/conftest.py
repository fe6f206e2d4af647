"""Fixtures for the simulated platforms (tests/support/platform_sim.py): a short private home, and the
simulation installed in this process for one test (undone after it)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# The simulation is built from Linux parts (open-file-description locks, CLOCK_BOOTTIME): on a Windows or
# macOS runner the real OS is under test instead, and these files are not even imported.
collect_ignore_glob = [] if sys.platform.startswith("linux") else ["test_*.py"]
if sys.platform.startswith("linux"):
    from tests.support.platform_sim import install, sim_env

_CLEARED = ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
            "POLARIS_HOME", "POLARIS_MINER_ID", "APPDATA", "LOCALAPPDATA")  # fmt: skip


@pytest.fixture
def short_home(monkeypatch):
    """A fresh home with a short path: macOS keeps the control socket under ~/Library, and a socket's
    path must stay under 104 bytes there (108 here)."""
    home = Path(tempfile.mkdtemp(prefix="ph", dir="/tmp"))
    home.chmod(0o700)
    monkeypatch.setenv("HOME", str(home))
    for var in _CLEARED:
        monkeypatch.delenv(var, raising=False)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _simulate(platform: str, monkeypatch, home: Path, uptime_s: float | None = None):
    from polaris_tray.core.platform import win32

    env = sim_env(platform, {"HOME": str(home)}, uptime_s=uptime_s)
    for key in ("USERNAME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "SystemDrive", "POLARIS_SIM_UPTIME_S"):
        if key in env:
            monkeypatch.setenv(key, env[key])
    win32._kernel32.cache_clear()  # a fake kernel32 must not outlive its test
    sim = install(platform, monkeypatch)
    yield sim
    win32._kernel32.cache_clear()


@pytest.fixture
def win32(monkeypatch, short_home):
    """This process as a simulated Windows for the test (30 days of uptime)."""
    with monkeypatch.context() as patch:
        yield from _simulate("win32", patch, short_home, uptime_s=30 * 86400)


@pytest.fixture
def darwin(monkeypatch, short_home):
    """This process as a simulated macOS for the test."""
    with monkeypatch.context() as patch:
        yield from _simulate("darwin", patch, short_home)
