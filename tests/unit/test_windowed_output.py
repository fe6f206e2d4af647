"""The windowed build has no console (sys.stdout and sys.stderr are None, as in polaris-tray.exe): its
command-line modes write their output to console-output.txt in the log folder instead of losing it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.app import ROOT, app_env

ENTRY = ROOT / "build_scripts" / "entry.py"


def run_windowed(home, *args, stdin=None):
    """entry.py as the frozen windowed exe runs it: no stdout, no stderr, no stdin."""
    code = (
        "import runpy, sys\n"
        "sys.stdout = sys.stderr = sys.stdin = None\n"
        f"sys.argv = ['polaris-tray', *{list(args)!r}]\n"
        f"runpy.run_path({str(ENTRY)!r}, run_name='__main__')\n"
    )
    env = app_env(home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")  # never the user's keyring
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def output_file(home):
    found = list(home.rglob("console-output.txt"))
    assert len(found) == 1, found
    assert "log" in str(found[0].parent).lower()  # beside the log file, wherever this OS keeps logs
    return found[0].read_text()


def test_version_and_help_land_in_the_log_folder(home):
    from polaris_tray import __version__

    assert run_windowed(home, "--version").returncode == 0
    assert f"polaris-tray {__version__}" in output_file(home)
    assert run_windowed(home, "--help").returncode == 0
    text = output_file(home)
    assert text.count("--- ") == 2 and "--autostart" in text  # one dated block per run


def test_once_writes_its_json_line(home, orchestrator):
    result = run_windowed(home, "--once", "--server-url", orchestrator.url)
    assert result.returncode == 0, result.stderr
    line = [t for t in output_file(home).splitlines() if t.startswith("{")][-1]
    assert json.loads(line)["ok"] is True
    assert "miner-abcdef123456" not in output_file(home)


def test_set_miner_id_without_stdin_says_why_in_the_file(home):
    assert run_windowed(home, "--set-miner-id").returncode == 2
    assert "reads the id from standard input" in output_file(home)


def test_with_a_console_or_for_the_tray_nothing_is_redirected(home, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("polaris_entry", ENTRY)
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    assert entry.command_line_mode(["--autostart", "status"]) and entry.command_line_mode(["-h"])
    assert entry.command_line_mode(["--autostart=status"]) and not entry.command_line_mode(["--login"])
    assert entry.capture_windowed_output(["--once"]) is None  # pytest's streams are there
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert entry.capture_windowed_output(["--demo"]) is None  # the tray logs to its log file
    stream = entry.capture_windowed_output(["--once"])
    assert stream is sys.stdout is sys.stderr
    monkeypatch.setattr(entry, "OUTPUT_CAP", 10)
    stream.write("0123456789abcdef")
    stream.write("more")
    sys.stdout = sys.stderr = None
    assert stream.path.read_text().splitlines()[1:] == ["0123456789", "(output cut here)"]
    assert not list(home.rglob("polaris-tray.log"))  # nothing else was written


@pytest.mark.posix
def test_a_link_in_place_of_the_file_is_not_followed(home, tmp_path):
    run_windowed(home, "--version")
    path = next(home.rglob("console-output.txt"))
    path.unlink()
    target = tmp_path / "elsewhere"
    target.write_text("untouched")
    path.symlink_to(target)
    run_windowed(home, "--version")
    assert target.read_text() == "untouched"
