"""settings.json as hostile input: any size, depth or file type ends in defaults and a message, in bounded
time and memory; a bad file is set aside once, with the miner id stripped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from polaris_tray.core.config.settings import Settings, SettingsStore
from tests.support.app import ROOT, app_env

CODE = (
    "import json, resource; from polaris_tray.core.config.settings import SettingsStore; "
    "r = SettingsStore().load(); "
    "print(json.dumps({'warnings': r.warnings, 'aside': str(r.kept_aside), "
    "'rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))"
)


def load_in_process(home) -> dict:
    """A real process, so a hang is a timeout and the memory is this load's alone."""
    done = subprocess.run(
        [sys.executable, "-c", CODE], env=app_env(home), cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def settings_path(home):
    path = home / ".config" / "polaris-tray" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def test_a_300_mb_file_costs_no_memory_and_is_set_aside_once(home):
    path = settings_path(home)
    with open(path, "wb") as handle:  # sparse: 300 MB of size, no disk
        handle.write(b'{"miner_id": "miner-secret-123", "interval_s": 30, "pad": "')
        handle.truncate(300 * 1024 * 1024)
    first = load_in_process(home)
    print(f"\nmax RSS loading a 300 MB settings file: {first['rss_kb'] / 1024:.0f} MB")
    assert first["rss_kb"] < 250 * 1024  # ~40-150 MB seen (page cache); reading it whole took 615 MB
    assert "over the 64 KiB limit" in first["warnings"][0]
    aside = list(path.parent.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].stat().st_size <= 64 * 1024
    assert b"miner-secret-123" not in aside[0].read_bytes()
    assert not path.exists()


def test_deep_nesting_is_corrupt_not_a_crash(home):
    path = settings_path(home)
    path.write_text("[" * 30000 + "]" * 30000)
    result = load_in_process(home)
    assert "corrupt" in result["warnings"][0]


def test_a_fifo_does_not_hang_the_start_and_is_left_alone(home):
    path = settings_path(home)
    os.mkfifo(path)
    result = load_in_process(home)  # subprocess timeout: a hang fails the test
    assert "FIFO" in result["warnings"][0]
    assert path.exists()  # not ours: not moved, not removed


def test_a_directory_or_device_is_left_alone(home):
    path = settings_path(home)
    path.symlink_to("/dev/zero")
    result = load_in_process(home)
    assert "device" in result["warnings"][0]


def test_a_bad_file_is_set_aside_once_across_starts_without_the_id(home):
    path = settings_path(home)
    bad = b'{"miner_id": "miner-secret-123", "interval_s": '
    for _ in range(3):
        path.write_bytes(bad)
        SettingsStore(path.parent).load()
    aside = list(path.parent.glob("settings.json.corrupt-*"))
    assert len(aside) == 1
    assert b"miner-secret-123" not in aside[0].read_bytes() and b"<removed>" in aside[0].read_bytes()


def test_bad_values_are_kept_aside_once_and_the_id_leaves_the_file(home):
    path = settings_path(home)
    path.write_text(json.dumps({"miner_id": "miner-secret-123", "interval_s": "2", "notifications": False}))
    for _ in range(3):
        result = SettingsStore(path.parent).load()
    assert result.settings.notifications is False and result.settings.interval_s == 30.0
    assert len(list(path.parent.glob("settings.json.corrupt-*"))) == 1
    assert all(b"miner-secret-123" not in p.read_bytes() for p in path.parent.iterdir())
    assert json.loads(path.read_text()) == {"interval_s": "2", "notifications": False}  # the rest as it was


def test_a_writer_that_never_closes_cannot_hang_the_load(home):
    """A FIFO with a writer holding it open: the read returns what is there, it never waits for more."""
    path = settings_path(home)
    os.mkfifo(path)
    writer_ready = threading.Event()

    def writer():
        fd = os.open(path, os.O_RDWR)  # keeps the FIFO open for writing without blocking
        os.write(fd, b'{"interval_s": 45}')
        writer_ready.set()
        stop.wait(30)
        os.close(fd)

    stop = threading.Event()
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    writer_ready.wait(5)
    try:
        result = SettingsStore(path.parent).load()
        assert result.settings == Settings() and "FIFO" in result.warnings[0]
    finally:
        stop.set()
        t.join(5)


@pytest.mark.parametrize("payload", [b"\xff" * 100, b"null", b'"text"', b"1e999999"])
def test_other_shapes(home, payload):
    path = settings_path(home)
    path.write_bytes(payload)
    assert SettingsStore(path.parent).load().settings == Settings()
