"""What the PyInstaller spec lists per OS: each build names only modules that OS installs (no "Hidden import
not found"), with that OS's keyring backend, and the Linux build lists what it always did."""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.app import ROOT

_spec = importlib.util.spec_from_file_location("hidden_imports", ROOT / "build_scripts" / "hidden_imports.py")
module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module)
hidden_imports, installed = module.hidden_imports, module.installed

LINUX_ONLY = (
    "secretstorage",
    "jeepney",
    "cryptography",
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
)


def fake_collect(package):
    return [f"{package}.SecretService", f"{package}.Windows", f"{package}.macOS.api"]


def test_linux_keeps_every_keyring_backend_and_the_secret_service_stack():
    names = hidden_imports("linux", fake_collect)
    assert names[:7] == [
        *fake_collect("keyring.backends"),
        "secretstorage",
        "jeepney",
        "jeepney.io.blocking",
        "cryptography.hazmat.primitives.ciphers",
    ]


@pytest.mark.parametrize(
    ("platform", "backend"), [("win32", "keyring.backends.Windows"), ("darwin", "keyring.backends.macOS")]
)
def test_other_builds_name_their_own_backend_and_nothing_of_linux(platform, backend):
    names = hidden_imports(platform, fake_collect)
    assert backend in names and "keyring.backends.fail" in names
    assert not [n for n in names if n.startswith(LINUX_ONLY)]


def test_every_name_exists_where_its_package_is_installed():
    """keyring ships every backend's module on every OS: those are checked here; pywin32-ctypes and
    truststore only where they are installed."""
    for platform in ("linux", "win32", "darwin"):
        for name in hidden_imports(platform):
            top = name.split(".")[0]
            if importlib.util.find_spec(top) is not None:
                assert installed(name), (platform, name)


def test_truststore_is_listed_with_its_os_part_once_installed(monkeypatch):
    monkeypatch.setattr(module, "installed", lambda name: name == "truststore")
    assert hidden_imports("win32")[-2:] == ["truststore", "truststore._windows"]
    assert hidden_imports("darwin")[-2:] == ["truststore", "truststore._macos"]
    assert hidden_imports("linux")[-2:] == ["truststore", "truststore._openssl"]
    monkeypatch.setattr(module, "installed", lambda name: False)
    assert not [n for n in hidden_imports("win32") if "truststore" in n]


def test_the_spec_builds_the_console_companion_on_windows_only():
    spec = (ROOT / "build_scripts" / "polaris-tray.spec").read_text()
    assert 'name="polaris-tray-cli"' in spec and "console=True" in spec
    assert "if WINDOWS and not ONEFILE:" in spec and "hidden_imports(sys.platform" in spec
