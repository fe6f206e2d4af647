"""The suite's own platform rules: Linux-only tests are skipped elsewhere with the reason, the table names
tests that exist, and the run's profile holds the app's folders on every OS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import ROOT
from tests.support.platforms import LINUX_ONLY, POSIX_ONLY, SIMULATION_BLIND, mark_platform_needs, outside


class Item:
    """What the hook reads of a collected test."""

    def __init__(self, nodeid: str, *marks: pytest.MarkDecorator) -> None:
        self.nodeid, self.path = nodeid, ROOT / nodeid.partition("::")[0]
        self.own_markers = [m.mark for m in marks]

    def get_closest_marker(self, name):
        return next((m for m in self.own_markers if m.name == name), None)

    def add_marker(self, marker):
        self.own_markers.append(marker.mark)

    def skip_reason(self):
        skip = self.get_closest_marker("skip")
        return skip and skip.kwargs["reason"]


def items():
    return [
        Item("tests/unit/test_control_resources.py::test_100_start_stop"),
        Item("tests/unit/test_service_parts.py::test_resolution_order_file_before_environment"),
        Item("tests/unit/test_service_parts.py::test_listen_refused[1.2.3.4]"),
        Item("tests/system/test_x.py::test_y", pytest.mark.gui),
        Item("tests/unit/test_z.py::test_own", pytest.mark.linux(reason="its own reason")),
    ]


def test_off_linux_the_marked_tests_are_skipped_with_their_reason():
    windows = items()
    mark_platform_needs(windows, ROOT, "win32")
    assert [i.skip_reason() for i in windows] == [
        "needs linux: counts threads and descriptors in /proc/self",
        "needs posix: POSIX file modes (chmod 600)",
        None,
        "needs linux: a gui test: its services run on Linux",
        "needs linux: its own reason",
    ]
    mac = items()
    mark_platform_needs(mac, ROOT, "darwin")
    assert [bool(i.skip_reason()) for i in mac] == [True, False, False, True, True]
    linux = items()
    mark_platform_needs(linux, ROOT, "linux")
    assert not any(i.skip_reason() for i in linux)
    assert linux[0].get_closest_marker("linux") and linux[1].get_closest_marker("posix")


def test_under_the_simulation_the_blind_tests_are_skipped_and_only_there(monkeypatch):
    blind = next(iter(SIMULATION_BLIND))
    monkeypatch.delenv("POLARIS_SIM_PLATFORM", raising=False)
    plain = [Item(blind)]
    mark_platform_needs(plain, ROOT, "linux")
    assert plain[0].skip_reason() is None
    monkeypatch.setenv("POLARIS_SIM_PLATFORM", "darwin")
    simulated = [Item(blind)]
    mark_platform_needs(simulated, ROOT, "darwin")
    assert simulated[0].skip_reason().startswith("under the simulation: ")


def test_every_entry_of_the_tables_names_a_collected_test():
    """A renamed test would silently lose its marker: every entry must still match something."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "tests/unit",
            "tests/system",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    assert len(ids) > 300, out.stdout[-2000:] + out.stderr[-2000:]
    stale = [
        p
        for p in [*LINUX_ONLY, *POSIX_ONLY, *SIMULATION_BLIND]
        if not any(i == p or i.startswith(p) for i in ids)
    ]
    assert not stale


def test_the_runs_profile_holds_the_apps_folders(own_profile):
    from polaris_tray.core.storage import paths

    for folder in (paths.config_dir(), paths.state_dir(), paths.log_dir(), Path.home()):
        assert not outside(folder, own_profile), folder


def test_windows_folders_follow_the_profile_whatever_the_shell_says(monkeypatch):
    """platformdirs asks Windows' shell for the folders and ignores APPDATA; the override variables win."""
    from platformdirs.windows import Windows

    monkeypatch.setenv("WIN_PD_OVERRIDE_APPDATA", r"C:\profile\AppData\Roaming")
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", r"C:\profile\AppData\Local")
    dirs = Windows("polaris-tray", appauthor=False)
    assert dirs.user_config_dir.startswith("C:\\profile\\AppData\\Local")  # not roaming: local
    assert Windows("polaris-tray", appauthor=False, roaming=True).user_config_dir.startswith(
        "C:\\profile\\AppData\\Roaming"
    )
    assert dirs.user_log_dir.startswith("C:\\profile\\AppData\\Local")
