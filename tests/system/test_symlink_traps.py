"""No file the app creates or appends to is reached through a symlink, and no target we did not create is
chmod-ed or written: log, history and its -wal/-shm, settings, autostart entry, lock."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.instance_dir import InstanceLock
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.storage.paths import UnsafePath
from polaris_tray.core.values.outcome import Outcome, OutcomeKind
from tests.support.app import app_env, run_app, start_app
from tests.support.users import local_user

ORIGINAL = b"ORIGINAL root-owned content\n"


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "victim-target"
    path.write_bytes(ORIGINAL)
    path.chmod(0o644)
    return path


def untouched(path) -> bool:
    return path.read_bytes() == ORIGINAL and stat.S_IMODE(path.stat().st_mode) == 0o644


def plant(link, target):
    link.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    link.symlink_to(target)


def run_headless_briefly(env, orchestrator):
    proc = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "0.2"], env)
    try:
        assert orchestrator.wait_for(2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    return err


def test_log_file_symlink_is_not_followed(home, orchestrator, target):
    plant(home / ".local" / "state" / "polaris-tray" / "log" / "polaris-tray.log", target)
    err = run_headless_briefly(app_env(home), orchestrator)
    assert untouched(target)
    assert "symlink" in err and "not followed" in err


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_history_and_its_journals_are_not_created_through_symlinks(tmp_path, target, suffix):
    path = tmp_path / "state" / "history.sqlite3"
    plant(path.with_name(path.name + suffix), target)
    store = HistoryStore(path)
    store.record(Outcome(OutcomeKind.ACCEPTED, 200, 5.0))
    store.close()
    assert untouched(target)
    assert store.problem and "not followed" in store.problem


def test_settings_symlink_is_replaced_not_written_through(home, target):
    s = SettingsStore(home / ".config" / "polaris-tray")
    plant(s.path, target)
    s.save(Settings(interval_s=25))
    assert untouched(target)
    assert not s.path.is_symlink() and stat.S_IMODE(s.path.stat().st_mode) == 0o600


def test_a_bad_settings_symlink_is_set_aside_without_touching_its_target(home, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{not json")
    s = SettingsStore(home / ".config" / "polaris-tray")
    plant(s.path, bad)
    result = s.load()
    assert result.kept_aside is not None and bad.read_bytes() == b"{not json"
    assert not os.path.lexists(s.path)


def test_autostart_entry_symlink_is_replaced(home, target):
    plant(home / ".config" / "autostart" / "io.polaris.tray.desktop", target)
    result = run_app(["--autostart", "on"], app_env(home))
    assert result.returncode == 0, result.stderr
    entry = home / ".config" / "autostart" / "io.polaris.tray.desktop"
    assert untouched(target) and not entry.is_symlink() and b"[Desktop Entry]" in entry.read_bytes()


def test_lock_symlink_is_refused(tmp_path, target):
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    plant(directory / "x.lock", target)
    with pytest.raises(UnsafePath):
        InstanceLock(directory, "x").acquire("headless")
    assert untouched(target)


def test_root_on_a_users_directories_neither_follows_nor_chmods(orchestrator, target):
    """Run as root with HOME pointing at a user's home, whose app dirs hold symlinks to root's files."""
    with local_user() as (name, uid):
        home = os.path.expanduser(f"~{name}")
        state = os.path.join(home, ".local", "state", "polaris-tray")
        script = (
            f"mkdir -p {state}/log && chmod 700 {home}/.local {home}/.local/state {state} {state}/log && "
            f"ln -s {target} {state}/log/polaris-tray.log && ln -s {target} {state}/history.sqlite3-wal"
        )
        subprocess.run(["runuser", "-u", name, "--", "sh", "-c", script], check=True)
        err = run_headless_briefly(app_env(__import__("pathlib").Path(home)), orchestrator)
        assert untouched(target)
        mine = [p for p in __import__("pathlib").Path(home).rglob("*") if p.lstat().st_uid != uid]
        assert mine == []  # root created nothing in the user's home
        assert "owned by uid" in err
