"""The command line's grammar: argparse in, plain values out (Overrides, LaunchOptions) for the runners."""

from __future__ import annotations

import argparse
import sys

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.core.config.limits import (
    OFFLINE_AFTER_S,
    RUN_INTERVAL_MAX_S,
    RUN_INTERVAL_MIN_S,
    SAVED_INTERVAL_MAX_S,
)
from polaris_tray.core.config.run_plan import (
    InvalidOverride,
    LaunchOptions,
    Overrides,
    check_interval,
    check_overrides,
)
from polaris_tray.core.storage.logs import LEVELS as LOG_LEVELS
from polaris_tray.service.hooks import add_service_arguments


def _interval(text: str) -> float:
    try:
        seconds = check_interval(text)
    except InvalidOverride as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds > SAVED_INTERVAL_MAX_S:
        print(
            f"Warning: --interval {seconds:g} is longer than {SAVED_INTERVAL_MAX_S:g} s: the orchestrator "
            f"counts a miner offline {OFFLINE_AFTER_S:g} s after its last heartbeat, so this machine "
            "will show as offline between beats (red from "
            f"{OFFLINE_AFTER_S:g} s after each accepted one).",
            file=sys.stderr,
        )
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polaris-tray",
        description=f"{APP_DISPLAY_NAME}: keeps this machine visible to the Polaris orchestrator.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true", help="run the agent with no GUI (servers)")
    mode.add_argument("--once", action="store_true", help="send one heartbeat, print a JSON line, exit")
    mode.add_argument(
        "--set-miner-id",
        action="store_true",
        help="read the miner id from standard input into the OS keyring",
    )
    mode.add_argument(
        "--forget-miner-id", action="store_true", help="delete the miner id from the OS keyring"
    )
    mode.add_argument(
        "--autostart",
        choices=("on", "off", "status"),
        help="start at login: turn on, off, or show the status",
    )
    mode.add_argument(
        "--quit",
        action="store_true",
        help="make the running tray app quit (needs no display; exit 3 when none runs)",
    )
    mode.add_argument(
        "--install-desktop",
        action="store_true",
        help="add Polaris Tray to your applications menu (a .desktop entry and icons in ~/.local/share)",
    )
    mode.add_argument("--uninstall-desktop", action="store_true", help="remove what --install-desktop added")
    mode.add_argument(
        "--doctor",
        action="store_true",
        help="check each link to the orchestrator (settings, miner id, keyring, DNS, proxy, TCP, TLS, HTTP, "
        "registration, clock, GPUs), one line each with its fix; exit 1 when one is broken",
    )
    parser.add_argument(
        "--no-send",
        action="store_true",
        help="with --doctor: send no heartbeat (the registration is then not checked)",
    )
    parser.add_argument("--demo", action="store_true", help="use a built-in demo orchestrator on 127.0.0.1")
    parser.add_argument(
        "--server-url",
        metavar="URL",
        help="orchestrator URL for this run (overrides the saved setting; https, or http on loopback)",
    )
    parser.add_argument(
        "--interval",
        type=_interval,
        metavar="SECONDS",
        help=(
            "seconds between heartbeats for this run (overrides the saved setting; "
            f"{RUN_INTERVAL_MIN_S:g} to {RUN_INTERVAL_MAX_S:g})"
        ),
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        type=str.upper,
        metavar="LEVEL",
        help=(
            f"log detail for this run: {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]} "
            "(default: the saved setting, INFO)"
        ),
    )
    parser.add_argument("--login", action="store_true", help=argparse.SUPPRESS)  # launched by autostart
    add_service_arguments(parser)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version and exit"
    )
    return parser


def overrides_of(args: argparse.Namespace) -> Overrides:
    """The run's overrides, checked by the core's rules (InvalidOverride names a bad --server-url)."""
    return check_overrides(args.server_url, args.interval, args.log_level)


def launch_options(args: argparse.Namespace) -> LaunchOptions:
    """What the tray is handed instead of the Namespace."""
    return LaunchOptions(overrides_of(args), demo=args.demo, login=args.login)
