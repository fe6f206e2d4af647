"""Every command-line option says what it does in --help (--log-level once had none)."""

import argparse

from polaris_tray.cli.args import build_parser

HIDDEN = {"--login"}  # passed by the start-at-login entry only, not by people


def test_every_option_has_help_text():
    parser = build_parser()
    missing = [
        action.option_strings
        for action in parser._actions
        if action.option_strings
        and not HIDDEN & set(action.option_strings)
        and (not action.help or action.help == argparse.SUPPRESS)
    ]
    assert missing == []
    text = parser.format_help()
    assert "--log-level LEVEL" in text and "DEBUG, INFO, WARNING or ERROR" in text
