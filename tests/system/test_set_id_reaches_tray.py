"""--set-miner-id while the tray runs with no id (walk: it stayed "Not configured: no miner id" until a
restart, though the id was stored): the running tray is told, reads the keyring again and beats."""

import time

import pytest

from tests.support.app import app_env, run_app, start_app

MINER = "walk-miner-0001"


@pytest.mark.keyring
def test_an_id_stored_while_the_tray_waits_unconfigured_is_used_at_once(home, orchestrator, keyring_env):
    env = app_env(home, miner_id=None, keyring=keyring_env)
    tray = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    log = home / ".local/state/polaris-tray/log/polaris-tray.log"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (log.exists() and "-> unconfigured" in log.read_text()):
            time.sleep(0.1)  # the tray's own log says when it has settled on "no id"
        assert "-> unconfigured" in log.read_text()
        stored = run_app(["--set-miner-id"], env, stdin=MINER + "\n")
        assert stored.returncode == 0, stored.stderr
        assert "the running Polaris Tray was told" in stored.stderr
        assert orchestrator.wait_for(1, timeout=15), log.read_text()
        assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER
    finally:
        run_app(["--quit"], env)
        tray.wait(10)
