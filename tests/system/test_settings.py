import json
import os
import stat
import subprocess
import sys

import pytest

from polaris_tray.core.config.settings import InvalidSetting, Settings, SettingsStore, validate
from tests.support.app import ROOT, app_env, run_app


def store(home):
    return SettingsStore(home / ".config" / "polaris-tray")


def test_missing_file_gives_defaults(home):
    result = store(home).load()
    assert result.settings == Settings() and result.warnings == []


def test_round_trip_and_private_atomic_write(home):
    s = store(home)
    s.save(Settings(server_url="https://example.org/api/v1/", interval_s=25, notifications=False))
    loaded = s.load().settings
    assert loaded.server_url == "https://example.org/api/v1"
    assert loaded.interval_s == 25.0 and loaded.notifications is False
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(s.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in s.path.parent.iterdir()] == ["settings.json"]  # no temp file left behind


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b""])
def test_corrupt_file_is_kept_aside_and_defaults_used(home, content):
    s = store(home)
    s.path.parent.mkdir(parents=True)
    s.path.write_bytes(content)
    result = s.load()
    assert result.settings == Settings()
    assert result.kept_aside is not None and result.kept_aside.read_bytes() == content
    assert ".corrupt-" in result.kept_aside.name
    assert not s.path.exists()
    assert "kept as" in result.warnings[0]


def test_invalid_values_fall_back_one_by_one(home):
    s = store(home)
    s.path.parent.mkdir(parents=True)
    s.path.write_text(
        json.dumps(
            {
                "server_url": "http://example.org",
                "interval_s": "2",
                "notifications": False,
                "log_level": "LOUD",
                "miner_id": "leaked-id",
            }
        )
    )
    result = s.load()
    assert result.settings.server_url == Settings().server_url
    assert result.settings.interval_s == 30.0
    assert result.settings.notifications is False  # the valid value survives
    assert result.settings.log_level == "INFO"
    assert len(result.warnings) == 4
    assert any("keyring" in w for w in result.warnings)
    assert result.kept_aside is not None and result.kept_aside.exists()


def test_save_refuses_invalid_values(home):
    for bad in (Settings(interval_s=5), Settings(server_url="ftp://x"), Settings(log_level="x")):
        with pytest.raises(InvalidSetting):
            store(home).save(bad)
    assert not store(home).path.exists()
    with pytest.raises(InvalidSetting, match="between 10 s and 30 s"):
        validate(Settings(interval_s=31))


def test_unreadable_file_gives_defaults(home):
    if os.geteuid() == 0:
        # root reads anything: make the path a directory instead, which no one can read as a file
        s = store(home)
        s.path.mkdir(parents=True)
        result = s.load()
        assert result.settings == Settings() and result.warnings
    else:  # pragma: no cover - CI runs as root
        s = store(home)
        s.path.parent.mkdir(parents=True)
        s.path.write_text("{}")
        s.path.chmod(0)
        assert s.load().warnings


def test_corrupt_settings_file_process_starts_with_defaults_and_tells(home, orchestrator):
    path = home / ".config" / "polaris-tray" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"server_url": ')
    result = run_app(["--once", "--server-url", orchestrator.url], app_env(home))
    assert result.returncode == 0
    assert "corrupt" in result.stderr and "defaults" in result.stderr
    assert len(list(path.parent.glob("settings.json.corrupt-*"))) == 1


def test_every_file_the_app_creates_is_private(home, orchestrator):
    env = app_env(home)
    code = (
        "from polaris_tray.core.config.settings import SettingsStore, Settings; "
        "SettingsStore().save(Settings(interval_s=15))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "polaris_tray",
            "--headless",
            "--server-url",
            orchestrator.url,
            "--interval",
            "0.2",
        ],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    assert orchestrator.wait_for(2)
    proc.terminate()
    proc.wait(5)
    created = [p for p in home.rglob("*")]
    assert any(p.name == "polaris-tray.log" for p in created)
    assert any(p.name == "settings.json" for p in created)
    for path in created:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
