"""One agent per user (per miner under systemd), which no other local user can squat, reach or stop; --quit
reaches it with no display."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from polaris_tray.core.platform.instance_dir import InstanceLock, miner_tag, send_to_running
from polaris_tray.core.storage.paths import UnsafePath, ensure_private_dir
from tests.support.app import ROOT, app_env, run_app, start_app
from tests.support.users import in_private_tmp, local_user


def test_another_user_can_neither_squat_nor_receive_nor_quit():
    with local_user() as (attacker, _uid), local_user() as (victim, _victim_uid):
        run = in_private_tmp(
            [
                sys.executable,
                str(ROOT / "tests" / "support" / "squat_driver.py"),
                attacker,
                victim,
                str(ROOT),
                sys.executable,
            ],
            timeout=120,
            cwd="/",  # the app under test is the one on PYTHONPATH, not whatever the cwd holds
        )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["squatter_ready"]
    assert result["victim_started"], result  # a squatted /tmp neither blocks the start nor is used
    assert result["second"][0] == 0 and "already running" in result["second"][1], result
    assert result["squatter_got"] == [], result  # the forwarded --server-url never reached the attacker
    assert result["attacker_sees_socket"] == "hidden", result
    assert result["victim_alive_before_quit"]
    assert result["quit"][0] == 0, result
    assert result["victim_exit"] == 0, result


def test_a_dir_of_someone_else_or_a_symlink_is_refused(tmp_path):
    with local_user() as (_name, uid):
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o700)
        os.chown(theirs, uid, uid)
        with pytest.raises(UnsafePath, match="owned by uid"):
            ensure_private_dir(theirs, strict=True)
    link = tmp_path / "link"
    (tmp_path / "real").mkdir(mode=0o700)
    link.symlink_to(tmp_path / "real")
    with pytest.raises(UnsafePath, match="symlink"):
        ensure_private_dir(link, strict=True)
    wide = tmp_path / "wide"
    wide.mkdir()
    wide.chmod(0o755)
    with pytest.raises(UnsafePath, match="other users"):
        ensure_private_dir(wide, strict=True)


def test_with_and_without_xdg_runtime_dir_is_one_agent(home, orchestrator, tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = app_env(home)
    first = start_app(
        ["--headless", "--server-url", orchestrator.url, "--interval", "0.5"],
        dict(env, XDG_RUNTIME_DIR=str(runtime)),
    )
    try:
        assert orchestrator.wait_for(1)
        second = run_app(["--headless", "--server-url", orchestrator.url], env, timeout=20)
        assert second.returncode == 4
        assert "another agent already runs" in second.stderr and "headless" in second.stderr
        quit_ = run_app(["--quit"], env, timeout=20)  # --quit does not stop a headless agent: it says how
        assert quit_.returncode == 1 and "SIGTERM" in quit_.stderr
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(10)
    assert list(runtime.iterdir()) == []  # nothing was put in the variable's dir


def test_quit_with_nothing_running_says_so_without_a_display(home):
    result = run_app(["--quit"], app_env(home))
    assert result.returncode == 3
    assert "no Polaris Tray is running" in result.stderr
    assert "display" not in result.stderr.lower()


def test_quit_reaches_a_running_tray_with_no_display(home):
    env = app_env(home, QT_QPA_PLATFORM="offscreen")
    tray = start_app(["--demo"], env)
    try:
        lock = InstanceLock(name=env["POLARIS_TRAY_INSTANCE"])
        for _ in range(300):
            if send_to_running(["--status-probe-ignored"], lock) == "ok":
                break
            assert tray.poll() is None, tray.stderr.read()
            import time

            time.sleep(0.1)
        headless = run_app(["--headless", "--server-url", "http://127.0.0.1:9/api/v1"], env, timeout=20)
        assert headless.returncode == 4 and "tray" in headless.stderr  # tray + headless: one agent
        env_no_display = {
            k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
        }
        result = run_app(["--quit"], env_no_display)
        assert result.returncode == 0, result.stderr
        assert tray.wait(10) == 0
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait(5)


def test_service_lock_is_per_miner_and_names_no_id(tmp_path):
    state = tmp_path / "state"
    ensure_private_dir(state)
    first = InstanceLock.for_miner("miner-abc", state)
    assert first.acquire("headless")
    assert not InstanceLock.for_miner("miner-abc", state).acquire("headless")
    other = InstanceLock.for_miner("miner-xyz", state)
    assert other.acquire("headless")
    assert all("miner-abc" not in p.name for p in state.iterdir())
    assert first.path.name == f"miner-{miner_tag('miner-abc')}.lock"
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    first.release()
    other.release()


def test_headless_under_systemd_locks_per_miner_in_its_runtime_directory(home, orchestrator, tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = app_env(home, RUNTIME_DIRECTORY=str(runtime))
    first = start_app(["--headless", "--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        assert orchestrator.wait_for(1)
        second = run_app(["--headless", "--server-url", orchestrator.url], env, timeout=20)
        assert second.returncode == 4 and "this miner" in second.stderr
        assert [p.name.startswith("miner-") for p in runtime.iterdir()] == [True]
    finally:
        first.terminate()
        first.wait(10)


def test_lock_file_names_the_holder_then_its_channel(tmp_path):
    """One format on every OS: who holds the lock, then where it listens (on Windows a pipe name ending in
    the holder's token; here the socket beside the lock)."""
    directory = ensure_private_dir(tmp_path / "run")
    lock = InstanceLock(directory, "x")
    assert lock.acquire("tray")
    try:
        first, second = lock.path.read_text().splitlines()
        assert first == f"tray {os.getpid()}"
        assert second.startswith("channel ") and len(second.split()[1]) == 32
        other = InstanceLock(directory, "x")
        assert other.holder() == first and other.channel() == str(directory / "x.sock")
    finally:
        lock.release()
