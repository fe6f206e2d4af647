"""Shared fixtures: a real loopback orchestrator, an isolated home, and the app run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.orchestrator import Orchestrator

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("POLARIS_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture
def orchestrator():
    server = Orchestrator()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh home: the app's config, state and logs land here, and nothing of the real user's is read."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    for var in (
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "POLARIS_HOME",
        "POLARIS_MINER_ID",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


def app_env(
    home: Path, *, miner_id: str | None = "miner-abcdef123456", keyring: dict | None = None, **extra: str
) -> dict:
    """The environment of an app process: isolated home; a real keyring only when one is handed in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "DBUS_", "POLARIS_", "GNOME_KEYRING")) and k not in ("DISPLAY",)
    }
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    if keyring:  # the D-Bus session of a real Secret Service; without it there is no keyring at all
        env.update(keyring)
    if miner_id:
        env["POLARIS_MINER_ID"] = miner_id
    env.update(extra)
    return env


def run_app(args: list[str], env: dict, *, timeout: float = 30, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "polaris_tray", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def start_app(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "polaris_tray", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="session")
def secret_service():
    """A real Secret Service (gnome-keyring on a private D-Bus session) for the whole run."""
    from tests.support.services import SecretService

    service = SecretService().start()
    yield service
    service.stop()


@pytest.fixture
def keyring_env(secret_service):
    """The D-Bus variables that reach the real keyring; the stored id is removed after each test."""
    yield secret_service.env
    subprocess.run(
        ["secret-tool", "clear", "service", "polaris-tray", "username", "miner_id"],
        env={**os.environ, **secret_service.env},
        capture_output=True,
        timeout=20,
    )


def files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle.encode() in path.read_bytes():
                    hits.append(path)
            except OSError:
                pass
    return hits


@pytest.fixture(scope="session")
def x_display():
    """A real X server (Xvfb) with a real system tray host (trayer)."""
    from tests.support.services import XDisplay

    display = XDisplay(with_tray=True).start()
    yield display
    display.stop()


@pytest.fixture(scope="session")
def qapp_args():
    return ["polaris-tray-tests"]


def pytest_configure(config):
    # In-process Qt tests draw offscreen; the end-to-end tests run the app on Xvfb in their own processes.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def frozen_app():
    """The real PyInstaller build, made once per run: the path of the executable it prints last."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "build_scripts" / "build.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (ARTIFACTS / "build-report.txt").write_text(result.stdout)
    exe = Path(result.stdout.strip().splitlines()[-1])
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe
