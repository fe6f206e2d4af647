"""The settings form model, without Qt: overrides, the empty-id rule, demo, what OK saves."""

import json
import subprocess
import sys

import pytest

from polaris_tray.core.config.secret_store import SecretStoreError
from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.setup.settings_form import (
    NEED_MINER_ID,
    PLACEHOLDER_KEEP,
    PLACEHOLDER_NEW,
    SettingsForm,
)

MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"
SAVED = "https://saved.example/api/v1"
OVERRIDE = "http://127.0.0.1:18040/api/v1"


class Keyring:
    def __init__(self, broken=False):
        self.broken, self.value = broken, None

    def get(self):
        if self.broken:
            raise SecretStoreError("No OS keyring is available")
        return self.value

    def set(self, value):
        self.value = value


@pytest.fixture
def form(home):
    return SettingsForm(SettingsStore(), XdgAutostart(), Keyring())


def saved_file(home):
    """The saved file where this OS keeps it (platformdirs; under `home` whatever the OS)."""
    from polaris_tray.core.storage.paths import config_dir

    assert home in config_dir().parents
    return json.loads((config_dir() / "settings.json").read_text())


def test_the_form_model_imports_no_qt():
    code = (
        "import sys, polaris_tray.core.setup.settings_form; print(any('PySide6' in m for m in sys.modules))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_fields_show_the_override_in_effect_and_say_so(form):
    overrides = {"server_url": OVERRIDE, "interval_s": None}
    state = form.load(Settings(server_url=SAVED), overrides, miner_masked="f3a9…")
    assert state.values.server_url == OVERRIDE
    assert "Server set by --server-url for this run" in state.override_note
    assert state.values.interval_s == 30


def test_ok_without_changes_keeps_the_override_and_the_saved_value(form, home):
    overrides = {"server_url": OVERRIDE, "interval_s": 0.2}
    state = form.load(Settings(server_url=SAVED), overrides, miner_masked="f3a9…")
    assert state.values.interval_s == 0.2 and state.interval_min == 0.2  # shown as is, not clamped
    result = form.save(state.values)
    assert result.settings is not None and result.settings.server_url == SAVED
    assert saved_file(home)["server_url"] == SAVED and saved_file(home)["interval_s"] == 30
    assert overrides == {"server_url": OVERRIDE, "interval_s": 0.2}


def test_a_changed_overridden_field_is_saved_and_ends_the_override(form, home):
    overrides = {"server_url": OVERRIDE, "interval_s": None}
    state = form.load(Settings(server_url=SAVED), overrides, miner_masked="f3a9…")
    from dataclasses import replace

    result = form.save(replace(state.values, server_url="https://new.example/api/v1"))
    assert result.settings.server_url == "https://new.example/api/v1"
    assert overrides["server_url"] is None


def test_placeholder_depends_on_whether_an_id_is_in_effect(form):
    assert form.load(Settings()).miner_placeholder == PLACEHOLDER_NEW
    assert form.load(Settings(), miner_masked="(none)").miner_placeholder == PLACEHOLDER_NEW
    assert form.load(Settings(), miner_masked="f3a9…").miner_placeholder == PLACEHOLDER_KEEP


def test_empty_id_with_none_stored_is_refused_on_ok_with_the_reason(form, home):
    state = form.load(Settings(), first_run=True)
    assert form.check(state.values).ok  # no red as the dialog opens
    result = form.save(state.values)
    assert result.settings is None and result.problems.miner == NEED_MINER_ID
    assert not (home / ".config/polaris-tray/settings.json").exists()
    from dataclasses import replace

    result = form.save(replace(state.values, miner_id=f" {MINER} "))
    assert result.settings is not None and result.miner_id == MINER


def test_without_a_keyring_the_id_is_not_required_and_the_note_says_what_works(home):
    form = SettingsForm(SettingsStore(), XdgAutostart(), Keyring(broken=True))
    state = form.load(Settings(), first_run=True)
    assert form.probe_keyring()
    note = form.miner_note()
    assert "POLARIS_MINER_ID" in note and "--miner-id-file" in note
    assert not form.miner_id_required
    assert form.save(state.values).settings is not None


def test_demo_mode_shows_the_demo_values_and_saves_nothing(form, home):
    class Demo:
        server_url, interval_s = "http://127.0.0.1:40123/api/v1", 5.0

    state = form.load(Settings(), {}, demo=True, in_effect=Demo(), miner_masked="demo…")
    assert state.read_only and state.values.server_url == Demo.server_url and state.values.interval_s == 5
    assert "Demo mode" in state.intro
    assert form.save(state.values).settings is None
    assert not (home / ".config/polaris-tray/settings.json").exists()


def test_saving_keeps_the_settings_the_dialog_does_not_show(form, home):
    """The stop warning's "Don't ask again" is not a field of the dialog: OK must not turn it back on."""
    state = form.load(Settings(server_url=SAVED, warn_on_stop=False), {}, miner_masked="f3a9…")
    result = form.save(state.values)
    assert result.settings is not None and result.settings.warn_on_stop is False
    assert saved_file(home)["warn_on_stop"] is False
