"""One run plan: saved settings + overrides + demo -> the values every runner uses, by one set of rules."""

import pytest

from polaris_tray.cli.args import build_parser, launch_options
from polaris_tray.core.config import limits
from polaris_tray.core.config.run_plan import (
    QUIT_MESSAGE,
    DemoEndpoint,
    InvalidOverride,
    Overrides,
    check_interval,
    check_overrides,
    handoff_message,
    overrides_from_message,
    plan_run,
    resolve_miner,
)
from polaris_tray.core.config.settings import InvalidSetting, Settings, validate_interval
from polaris_tray.core.heartbeat.schedule import BeatSchedule

SAVED = Settings(server_url="https://saved.example/api/v1", interval_s=60.0, log_level="WARNING")
DEMO = DemoEndpoint("http://127.0.0.1:5555/api/v1", 5.0, "demo-miner-0001")


def test_saved_settings_apply_when_nothing_overrides_them():
    plan = plan_run(SAVED, Overrides())
    assert (plan.server_url, plan.interval_s, plan.log_level) == (SAVED.server_url, 60.0, "WARNING")
    assert plan.miner_id is None and plan.miner_origin == "none" and not plan.demo


def test_an_override_wins_for_this_run_only():
    url = "http://127.0.0.1:8080/api/v1"
    plan = plan_run(SAVED, check_overrides(url, "0.5", "debug"))
    assert (plan.server_url, plan.interval_s, plan.log_level) == (url, 0.5, "DEBUG")


def test_the_demo_brings_its_own_url_id_and_interval_and_ignores_saved_values():
    plan = plan_run(SAVED, Overrides(), DEMO)
    assert (plan.server_url, plan.interval_s, plan.miner_id, plan.miner_origin) == (
        DEMO.url,
        5.0,
        DEMO.miner_id,
        "demo",
    )
    assert plan.log_level == limits.DEFAULT_LOG_LEVEL and plan.start_beating and plan.demo
    assert plan_run(SAVED, Overrides(interval_s=0.2), DEMO).interval_s == 0.2
    assert resolve_miner(plan) is plan  # the keyring is never asked for the demo


def test_the_plan_is_immutable():
    with pytest.raises(AttributeError):
        plan_run(SAVED, Overrides()).interval_s = 1.0


@pytest.mark.parametrize("text", ["0.1", "1", "86400"])
def test_a_run_interval_in_the_run_range_is_taken(text):
    assert check_interval(text) == float(text)


@pytest.mark.parametrize("value", ["0.09", "86401", "nan", "inf", "soon", True, None])
def test_a_run_interval_outside_the_run_range_is_refused(value):
    with pytest.raises(InvalidOverride):
        check_interval(value)


def test_each_range_is_written_once_and_every_checker_uses_it():
    """The saved range is the dialog's; the run range is --interval's and the schedule's floor."""
    with pytest.raises(InvalidSetting):
        validate_interval(limits.SAVED_INTERVAL_MIN_S - 1)
    assert validate_interval(limits.SAVED_INTERVAL_MAX_S) == limits.SAVED_INTERVAL_MAX_S
    BeatSchedule(limits.RUN_INTERVAL_MIN_S)
    with pytest.raises(ValueError):
        BeatSchedule(limits.RUN_INTERVAL_MIN_S / 2)
    help_text = build_parser().format_help()
    assert f"{limits.RUN_INTERVAL_MIN_S:g} to {limits.RUN_INTERVAL_MAX_S:g}" in help_text
    assert Settings().interval_s == limits.DEFAULT_INTERVAL_S


def test_a_bad_server_url_or_log_level_is_refused_with_the_reason():
    with pytest.raises(InvalidOverride, match="https://"):
        check_overrides("ftp://example.org/api/v1")
    with pytest.raises(InvalidOverride, match="DEBUG"):
        check_overrides(log_level="LOUD")


def test_the_tray_gets_plain_launch_options_not_argparse():
    options = launch_options(build_parser().parse_args(["--demo", "--interval", "2", "--login"]))
    assert options.demo and options.login and options.overrides == Overrides(interval_s=2.0)
    with pytest.raises(InvalidOverride):
        launch_options(build_parser().parse_args(["--server-url", "http://example.org/api/v1"]))


def test_a_second_launch_sends_checked_values_and_the_receiver_checks_them_again():
    sent = handoff_message(check_overrides("http://127.0.0.1:9/api/v1", "3"))
    assert sent == {"show": True, "server_url": "http://127.0.0.1:9/api/v1", "interval_s": 3.0}
    assert overrides_from_message(sent) == Overrides("http://127.0.0.1:9/api/v1", 3.0)
    assert handoff_message(Overrides()) == {"show": True}
    assert QUIT_MESSAGE == {"quit": True}


@pytest.mark.parametrize(
    "message",
    [
        ["--server-url", "http://127.0.0.1:9/api/v1"],  # the old argv form is no longer a message
        {"server_url": "http://example.org/api/v1"},  # plain http off loopback
        {"interval_s": 0.01},
        {"interval_s": "1e9"},
    ],
)
def test_a_bad_message_from_another_process_is_refused(message):
    with pytest.raises(InvalidOverride):
        overrides_from_message(message)
