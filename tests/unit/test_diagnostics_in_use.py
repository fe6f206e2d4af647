"""Copy diagnostics reports the configuration in use (not only the saved one), with the miner id masked."""

from polaris_tray.core.config.settings import Settings
from polaris_tray.core.status.diagnostics import InUse, diagnostics_text
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.redact import mask_secret

MINER = "miner-7f3a9c2e-real-id"


def test_diagnostics_show_what_is_in_use_and_mask_the_id():
    snap = Snapshot(LinkState.ONLINE, "http://127.0.0.1:8765/api/v1", mask_secret(MINER), miner_origin="env")
    in_use = InUse("http://127.0.0.1:8765/api/v1", 5.0, demo=True, overrides=("--interval",))
    text = diagnostics_text(snap, Settings(), [], now_wall=0.0, in_use=in_use)
    used = text.split("In use:")[1].split("Saved settings:")[0]
    assert "server_url: http://127.0.0.1:8765/api/v1" in used and "interval_s: 5" in used
    assert "mode: demo" in used and "set on the command line: --interval" in used
    saved = text.split("Saved settings:")[1]
    assert f"server_url: {Settings().server_url} (not in use)" in saved
    assert MINER not in text and mask_secret(MINER) in text


def test_saved_values_in_use_are_not_repeated():
    settings = Settings()
    in_use = InUse(settings.server_url, settings.interval_s)
    text = diagnostics_text(None, settings, [], now_wall=0.0, in_use=in_use)
    assert "(not in use)" not in text and "mode: normal" in text
    assert text.count(settings.server_url) == 1
