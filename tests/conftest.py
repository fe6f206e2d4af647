"""Shared fixtures: a real loopback orchestrator, an isolated home, and the app run as a real process.

Every test runs in a profile of the run's own (HOME, USERPROFILE, APPDATA, LOCALAPPDATA, XDG_*), and tests
that need Linux or POSIX are skipped elsewhere with the reason (tests/support/platforms.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import ARTIFACTS, ROOT
from tests.support.heartbeat_post import clean_env, named_tls  # noqa: F401 (fixtures for every test)
from tests.support.orchestrator import Orchestrator
from tests.support.platforms import (
    WINDOWS_FOLDERS,
    mark_platform_needs,
    outside,
    profile_environment,
    real_keyring_would_be_used,
)


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
    # Windows finds the user's folders by these (platformdirs by WIN_PD_OVERRIDE_*), not by HOME
    for var, path in profile_environment(home, create=False).items():
        if var in WINDOWS_FOLDERS:
            monkeypatch.setenv(var, path)
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


@pytest.fixture(scope="session", autouse=True)
def own_profile(tmp_path_factory):
    """The whole run in a profile of its own, so no test reads or writes the real user's (a CI runner's
    %LOCALAPPDATA% or ~/Library included); tests that need a fresh one still take `home`."""
    import platformdirs

    root = tmp_path_factory.mktemp("profile")
    patch = pytest.MonkeyPatch()
    for var, value in profile_environment(root).items():
        patch.setenv(var, value)
    if real_keyring_would_be_used():  # the keychain and Credential Manager ignore HOME: no keyring at all
        patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    escaped = [
        p
        for p in (platformdirs.user_config_path("polaris-tray"), platformdirs.user_log_path("polaris-tray"))
        if outside(p, root)
    ]
    if escaped:
        patch.undo()
        pytest.exit(f"the test profile does not hold the app's folders: {escaped} (platformdirs too old?)", 3)
    yield root
    patch.undo()


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


@pytest.fixture(autouse=True)
def _garbage_on_the_gui_thread(request):
    """In-process Qt tests run the worker beside widgets as the app does: collect as the app does, on the
    GUI thread only (polaris_tray/gui/gui_thread_gc.py), or a collection in the worker's thread can
    deadlock the test run."""
    if {"qtbot", "qapp"} & set(request.fixturenames):
        from polaris_tray.gui import gui_thread_gc

        gui_thread_gc.install(request.getfixturevalue("qapp"))
    yield


def pytest_collection_modifyitems(config, items):
    mark_platform_needs(items, ROOT)


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


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A server context and the CA file the client trusts (handed over as REQUESTS_CA_BUNDLE)."""
    import ssl

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ctx, str(path)


@pytest.fixture
def session_bus():
    """A private D-Bus session bus (for the tray-host and notification tests)."""
    from tests.support.dbus_bus import PrivateBus

    bus = PrivateBus().start()
    yield bus
    bus.stop()


@pytest.fixture(scope="module")
def bare_display():
    """An X server with no tray host at all: only a panel the test starts can show the icon."""
    from tests.support.services import XDisplay

    display = XDisplay(with_tray=False).start()
    yield display
    display.stop()
