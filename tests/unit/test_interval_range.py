"""The saved interval keeps the 45 s window (10–30 s, one place); a longer saved value is used clamped."""

import logging

import pytest

from polaris_tray.cli.args import build_parser
from polaris_tray.core.config import limits
from polaris_tray.core.config.settings import InvalidSetting, Settings, SettingsStore, validate_interval
from polaris_tray.core.heartbeat.schedule import BeatSchedule


def test_the_saved_range_leaves_room_for_the_deadline_and_one_retry_inside_45_s():
    assert limits.SAVED_INTERVAL_MIN_S == 10
    assert limits.SAVED_INTERVAL_MAX_S == 30
    assert limits.SAVED_INTERVAL_MAX_S + limits.REQUEST_DEADLINE_S + limits.FIRST_RETRY_S <= 45
    first_retry = BeatSchedule(limits.SAVED_INTERVAL_MAX_S).backoff_window(1)
    assert first_retry == (limits.FIRST_RETRY_S / 2, limits.FIRST_RETRY_S)  # the one counted above


@pytest.mark.parametrize(("saved", "used"), [(120, 30.0), (3600, 30.0), (5, 10.0), (30, 30.0), (12.5, 12.5)])
def test_a_saved_value_outside_the_range_is_used_clamped_with_a_log_line(tmp_path, caplog, saved, used):
    store = SettingsStore(tmp_path)
    store.path.write_text(f'{{"interval_s": {saved}, "notifications": false}}')
    with caplog.at_level(logging.WARNING):
        result = store.load()
    assert result.settings.interval_s == used
    assert result.settings.notifications is False  # the rest of the file still counts
    assert result.kept_aside is None  # an old long interval is not corruption
    assert list(tmp_path.iterdir()) == [store.path]
    if saved == used:
        assert result.warnings == [] and not caplog.records
    else:
        assert f"{saved:g} s is outside 10–30 s; {used:g} s is used" in caplog.text
        assert result.warnings and "45 s" in result.warnings[0]


def test_saving_and_the_dialog_refuse_what_the_loader_would_clamp():
    with pytest.raises(InvalidSetting, match="between 10 s and 30 s"):
        validate_interval(31)
    with pytest.raises(InvalidSetting):
        SettingsStore.save(SettingsStore.__new__(SettingsStore), Settings(interval_s=120))


def test_a_long_run_interval_is_taken_with_a_warning_on_stderr(capsys):
    args = build_parser().parse_args(["--interval", "120"])
    assert args.interval == 120.0
    err = capsys.readouterr().err
    assert "--interval 120 is longer than 30 s" in err and "offline" in err
    # walk: it promised "amber, then red"; at 120 s the state goes from green to red at 45 s, never amber
    assert "amber" not in err and "red from 45 s after each accepted one" in err
    build_parser().parse_args(["--interval", "30"])
    assert capsys.readouterr().err == ""
