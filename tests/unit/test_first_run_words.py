"""A first run that cannot go wrong, without Qt: what the form offers (Advanced, saving a --server-url),
what Send now says during a retry wait, and the status window's server line."""

import time
from dataclasses import replace

import pytest

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.setup.settings_form import SettingsForm
from polaris_tray.core.status.send_now import send_now_words
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from tests.unit.test_settings_form import MINER, OVERRIDE, Keyring, saved_file

DEFAULT = Settings().server_url
REFUSED = Outcome(OutcomeKind.NETWORK_ERROR, error="Connection refused.", reason=NetworkReason.REFUSED)
OK = Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=50.0)


@pytest.fixture
def form(home):
    return SettingsForm(SettingsStore(), XdgAutostart(), Keyring())


def test_a_first_run_shows_only_the_id_unless_the_command_line_set_something(form):
    state = form.load(Settings(), {"server_url": None, "interval_s": None}, first_run=True)
    assert not state.advanced_open and not state.offer_save_server
    assert not state.values.save_server
    state = form.load(Settings(), {"server_url": None, "interval_s": 5.0}, first_run=True)
    assert state.advanced_open and not state.offer_save_server  # the interval override is shown


def test_a_server_given_on_the_first_run_is_saved_when_the_box_stays_ticked(form, home):
    overrides = {"server_url": OVERRIDE, "interval_s": None}
    state = form.load(Settings(), overrides, first_run=True)
    assert state.advanced_open and state.offer_save_server and state.values.save_server
    assert "Save this server for next time" in state.override_note
    result = form.save(replace(state.values, miner_id=MINER))
    assert result.settings is not None and result.settings.server_url == OVERRIDE
    assert saved_file(home)["server_url"] == OVERRIDE  # the next start uses it too
    assert overrides["server_url"] is None  # this run now follows the saved value (the same URL)


def test_unticked_the_server_is_for_this_run_only(form, home):
    overrides = {"server_url": OVERRIDE, "interval_s": None}
    state = form.load(Settings(), overrides, first_run=True)
    form.save(replace(state.values, miner_id=MINER, save_server=False))
    assert saved_file(home)["server_url"] == DEFAULT
    assert overrides["server_url"] == OVERRIDE


def test_a_later_opening_keeps_the_old_rule_for_an_override(form, home):
    """Not a first run: no box; OK without a change leaves the override as it is: it
    stays for this run, and the saved server is not touched."""
    overrides = {"server_url": OVERRIDE, "interval_s": None}
    state = form.load(Settings(), overrides, miner_masked="f3a9…")
    assert state.advanced_open and not state.offer_save_server
    assert "for this run" in state.override_note
    form.save(replace(state.values, save_server=True))  # a stray True from a view changes nothing
    assert saved_file(home)["server_url"] == DEFAULT


def test_the_id_typed_on_a_first_run_never_reaches_the_url(form, home):
    state = form.load(Settings(), None, first_run=True)
    result = form.save(replace(state.values, miner_id=MINER))
    assert result.miner_id == MINER and saved_file(home)["server_url"] == DEFAULT
    from polaris_tray.core.storage.paths import config_dir

    assert MINER not in (config_dir() / "settings.json").read_text()


def snap(state, outcome, next_in, now):
    return Snapshot(state, OVERRIDE, "f3a9…", now - 30, now + next_in, outcome)


def test_send_now_during_a_retry_wait_says_when_it_goes():
    now = 1_800_000_000.0
    words = send_now_words(snap(LinkState.RETRYING, REFUSED, 11.0, now), now)
    assert (
        words
        == f"Sending at {time.strftime('%H:%M:%S', time.localtime(now + 11))} — waiting for the retry window"
    )
    assert send_now_words(snap(LinkState.OFFLINE, REFUSED, 40.0, now), now).startswith("Sending at ")


@pytest.mark.parametrize(
    ("state", "outcome", "next_in"),
    [
        (LinkState.ONLINE, OK, 25.0),  # healthy: it goes at once
        (LinkState.RETRYING, REFUSED, 1.0),  # the window ends about now
        (LinkState.STOPPED, REFUSED, 11.0),  # stopped: one beat at once
        (LinkState.CONNECTING, None, 0.0),
    ],
)
def test_send_now_that_goes_at_once_says_nothing(state, outcome, next_in):
    now = 1_800_000_000.0
    assert send_now_words(snap(state, outcome, next_in, now), now) is None
    assert send_now_words(None, now) is None


def test_the_status_window_names_the_whole_server_url():
    from polaris_tray.gui.status.window import details_text

    url = "https://orchestrator.example:8443/api"
    text = details_text(
        ["Last accepted: 3 s ago", "Server: orchestrator.example"], snap(LinkState.ONLINE, OK, 5, 0)
    )
    assert "Server: orchestrator.example\n" not in text
    shown = replace(snap(LinkState.ONLINE, OK, 5, 0), server_url=url)
    assert f"Server: {url}" in details_text(["Server: orchestrator.example"], shown).replace("\u200b", "")


def test_demo_mode_shows_its_server_under_an_open_advanced(form):
    class Demo:
        server_url, interval_s = "http://127.0.0.1:40123/api/v1", 5.0

    state = form.load(Settings(), None, demo=True, in_effect=Demo())
    assert state.advanced_open and state.read_only and state.values.server_url == Demo.server_url
