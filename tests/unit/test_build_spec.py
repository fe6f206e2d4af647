"""What the PyInstaller spec lists per OS: each build names only modules that OS installs (no "Hidden import
not found"), with that OS's keyring backend, and the Linux build lists what it always did."""

from __future__ import annotations

import importlib.util
import sys
import types

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


class Recorder:
    """Stands for PyInstaller's build targets while the spec runs: records what each was given."""

    def __init__(self, kind, made):
        self.kind, self.made = kind, made

    def __call__(self, *args, **kwargs):
        fields = {"binaries": [], "datas": [], "pure": [], "scripts": [], **kwargs}
        target = types.SimpleNamespace(kind=self.kind, args=args, **fields)
        self.made.append(target)
        return target


def run_spec(platform, monkeypatch):
    """The real spec, run as PyInstaller runs it (SPECPATH and the targets as globals) for one OS."""
    made = []
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec adds the project's folders
    monkeypatch.delenv("POLARIS_ONEFILE", raising=False)
    versioninfo = types.ModuleType("PyInstaller.utils.win32.versioninfo")  # needs pefile: Windows only
    for name in (
        "FixedFileInfo",
        "StringFileInfo",
        "StringStruct",
        "StringTable",
        "VarFileInfo",
        "VarStruct",
    ):
        setattr(versioninfo, name, lambda *a, **k: (a, k))
    versioninfo.VSVersionInfo = lambda **k: k
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.win32.versioninfo", versioninfo)
    from PyInstaller.utils import hooks  # their real work happens in a child interpreter: not needed here

    monkeypatch.setattr(hooks, "collect_submodules", fake_collect)
    monkeypatch.setattr(hooks, "copy_metadata", lambda name: [(f"{name}.dist-info", f"{name}.dist-info")])
    spec = ROOT / "build_scripts" / "polaris-tray.spec"
    scope = {"SPECPATH": str(spec.parent), "__file__": str(spec)}
    scope |= {kind: Recorder(kind, made) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    exec(compile(spec.read_text(), str(spec), "exec"), scope)  # noqa: S102 (our own spec, as PyInstaller runs it)
    return made


def test_windows_gets_a_console_companion_in_the_same_folder_and_linux_stays_one_executable(monkeypatch):
    for platform in ("linux", "darwin"):
        made = run_spec(platform, monkeypatch)
        exes = [t for t in made if t.kind == "EXE"]
        assert [(e.name, e.console) for e in exes] == [("polaris-tray", False)]
        (collect,) = [t for t in made if t.kind == "COLLECT"]
        assert collect.args[0] is exes[0] and collect.name == "polaris-tray"
        assert [t.kind for t in made].count("BUNDLE") == (platform == "darwin")
        (analysis,) = [t for t in made if t.kind == "Analysis"]
        assert ("keyring.backends.SecretService" in analysis.hiddenimports) == (platform == "linux")
    made = run_spec("win32", monkeypatch)
    windowed, cli = [t for t in made if t.kind == "EXE"]
    assert (windowed.name, windowed.console, cli.name, cli.console) == (
        "polaris-tray",
        False,
        "polaris-tray-cli",
        True,
    )
    assert cli.args[:2] == windowed.args[:2]  # the same code and entry script
    assert "'polaris-tray-cli.exe'" in repr(cli.version) and "'polaris-tray.exe'" in repr(windowed.version)
    (collect,) = [t for t in made if t.kind == "COLLECT"]
    assert collect.args[:2] == (windowed, cli)
    (analysis,) = [t for t in made if t.kind == "Analysis"]
    assert "keyring.backends.Windows" in analysis.hiddenimports and "jeepney" not in analysis.hiddenimports
