"""The miner id: in the real OS keyring and nowhere else; fakes only for keyrings we cannot make misbehave."""

import json
import os
import subprocess
import threading
import time

import pytest

from polaris_tray.core.config import secret_store as ss
from polaris_tray.core.config.miner_id import (
    InvalidMinerId,
    read_legacy_miner_id,
    resolve_miner_id,
    validate_miner_id,
)
from tests.support.app import app_env, files_containing, run_app

MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"


def stored_in_keyring(env):
    out = subprocess.run(
        ["secret-tool", "lookup", "service", "polaris-tray", "username", "miner_id"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=20,
    )
    return out.stdout.strip() or None


@pytest.mark.keyring
def test_set_miner_id_then_once_sends_it_and_no_file_holds_it(home, orchestrator, keyring_env):
    env = app_env(home, miner_id=None, keyring=keyring_env)
    stored = run_app(["--set-miner-id"], env, stdin=MINER + "\n")
    assert stored.returncode == 0, stored.stderr
    assert stored_in_keyring(keyring_env) == MINER
    sent = run_app(["--once", "--server-url", orchestrator.url], env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER
    # headless too, long enough to write its log
    proc = subprocess.Popen(
        [*_python(), "--headless", "--server-url", orchestrator.url, "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert orchestrator.wait_for(4)
    proc.terminate()
    out, err = proc.communicate(timeout=5)
    for text in (stored.stdout, stored.stderr, sent.stdout, sent.stderr, out, err):
        assert MINER not in text
    assert (home / ".local/state/polaris-tray/log/polaris-tray.log").exists()
    assert files_containing(home, MINER) == []


def _python():
    import sys

    return [sys.executable, "-m", "polaris_tray"]


@pytest.mark.keyring
def test_forget_miner_id(home, orchestrator, keyring_env):
    env = app_env(home, miner_id=None, keyring=keyring_env)
    assert run_app(["--set-miner-id"], env, stdin=MINER).returncode == 0
    assert run_app(["--forget-miner-id"], env).returncode == 0
    assert stored_in_keyring(keyring_env) is None
    assert run_app(["--once", "--server-url", orchestrator.url], env).returncode == 2


@pytest.mark.parametrize("bad", ["", "   ", "two words", "tab\there", "x" * 129, "bell\x07"])
def test_set_miner_id_refuses_invalid_input(home, bad):
    result = run_app(["--set-miner-id"], app_env(home, miner_id=None), stdin=bad + "\n")
    assert result.returncode == 2
    assert "miner id" in result.stderr


def test_set_miner_id_without_a_keyring_exits_2_and_writes_nothing(home):
    result = run_app(["--set-miner-id"], app_env(home, miner_id=None), stdin=MINER + "\n")
    assert result.returncode == 2
    assert "No OS keyring" in result.stderr
    assert files_containing(home, MINER) == []
    # a server has no keyring: the words name the ways a server gives the id
    for way in ("--miner-id-file", "mode 600", "systemd credential polaris-miner-id", "POLARIS_MINER_ID"):
        assert way in result.stderr, result.stderr


def write_legacy(home, name="user_info.json"):
    path = home / ".polaris" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"miner_id": MINER, "username": "alice", "network_info": {"ssh_password": "hunter2", "port": 22}}
        )
    )
    return path


@pytest.mark.keyring
def test_legacy_file_is_imported_into_the_keyring_once(home, orchestrator, keyring_env):
    legacy = write_legacy(home)
    before = legacy.read_bytes()
    env = app_env(home, miner_id=None, keyring=keyring_env)
    first = run_app(["--once", "--server-url", orchestrator.url], env)
    assert first.returncode == 0, first.stderr
    assert "Imported the miner id" in first.stderr
    assert stored_in_keyring(keyring_env) == MINER
    assert legacy.read_bytes() == before
    second = run_app(["--once", "--server-url", orchestrator.url], env)
    assert second.returncode == 0 and "Imported" not in second.stderr
    assert [b["metrics"]["miner_id"] for b in orchestrator.bodies()] == [MINER, MINER]
    assert MINER not in first.stderr + first.stdout + second.stderr + second.stdout
    assert "hunter2" not in json.dumps(orchestrator.bodies())


def test_legacy_file_without_keyring_still_carries_the_id(home, orchestrator):
    write_legacy(home, "config.json")
    result = run_app(["--once", "--server-url", orchestrator.url], app_env(home, miner_id=None))
    assert result.returncode == 0
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER
    assert "could not be kept in the keyring" in result.stderr


def test_no_keyring_at_all_exits_2_quickly_and_env_still_works(home, orchestrator):
    started = time.monotonic()
    result = run_app(["--once", "--server-url", orchestrator.url], app_env(home, miner_id=None))
    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert "No OS keyring is available" in result.stderr and "POLARIS_MINER_ID" in result.stderr
    result = run_app(["--once", "--server-url", orchestrator.url], app_env(home, miner_id=MINER))
    assert result.returncode == 0


def test_environment_beats_keyring_and_legacy(home):
    class Store:
        def get(self):
            return "from-keyring"

        def set(self, value):
            raise AssertionError("must not be written")

    write_legacy(home)
    res = resolve_miner_id(Store(), environ={"POLARIS_MINER_ID": "from-env"}, home=home)
    assert (res.miner_id, res.origin) == ("from-env", "environment")
    res = resolve_miner_id(Store(), environ={}, home=home)
    assert (res.miner_id, res.origin) == ("from-keyring", "keyring")


def test_polaris_home_legacy_file(tmp_path):
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "user_info.json").write_text(json.dumps({"miner_id": "abc-123"}))
    res = resolve_miner_id(None, environ={"POLARIS_HOME": str(tmp_path / "cli")}, home=tmp_path / "nohome")
    assert (res.miner_id, res.origin) == ("abc-123", "legacy")


@pytest.mark.parametrize(
    "content", ["not json", "[1, 2]", '{"miner_id": 42}', '{"miner_id": "has space"}', ""]
)
def test_broken_legacy_files_are_ignored(tmp_path, content):
    path = tmp_path / "user_info.json"
    path.write_text(content)
    assert read_legacy_miner_id(path) is None


def test_validation():
    assert validate_miner_id("  abc  ") == "abc"
    for bad in ("", "a b", "x" * 129, "a\nb", None):
        with pytest.raises(InvalidMinerId):
            validate_miner_id(bad)


# --- keyrings that misbehave in ways a real one cannot be made to here -------------------------------------


class LockedBackend:
    priority = 5

    def get_password(self, service, user):
        from keyring.errors import KeyringLocked

        raise KeyringLocked("Failed to unlock the collection!")


class HangingBackend:
    priority = 5

    def __init__(self):
        self.release = threading.Event()

    def get_password(self, service, user):
        self.release.wait(30)


def test_locked_keyring_says_unlock_it():
    with pytest.raises(ss.SecretStoreError, match="locked"):
        ss.SecretStore(backend=LockedBackend()).get()


def test_hanging_keyring_cannot_freeze_the_caller():
    backend = HangingBackend()
    started = time.monotonic()
    with pytest.raises(ss.SecretStoreError, match="did not answer"):
        ss.SecretStore(timeout_s=0.3, backend=backend).get()
    assert time.monotonic() - started < 1.0
    backend.release.set()


def test_absent_keyring_gives_the_actionable_message():
    from keyring.errors import NoKeyringError

    class Absent:
        def get_password(self, *a):
            raise NoKeyringError("No recommended backend was available.")

    with pytest.raises(ss.SecretStoreError, match="POLARIS_MINER_ID"):
        ss.SecretStore(backend=Absent()).get()


def test_plain_text_backends_are_refused():
    import keyring
    from keyring.backend import KeyringBackend

    class PlaintextKeyring(KeyringBackend):
        priority = 0.5

        def get_password(self, s, u):
            return None

        def set_password(self, s, u, p):
            raise AssertionError("a secret reached a plain-text backend")

        def delete_password(self, s, u):
            pass

    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        with pytest.raises(ss.SecretStoreError, match="No OS keyring"):
            ss.SecretStore().set(MINER)
    finally:
        keyring.set_keyring(previous)
