"""The command line: one entry point for the tray, headless mode and the one-shot tools.

Qt is imported only when a mode needs it, so headless servers never load it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass

from polaris_tray import APP_DISPLAY_NAME, __version__

log = logging.getLogger("polaris_tray")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0.1 or value > 86400:
        raise argparse.ArgumentTypeError("the interval must be between 0.1 and 86400 seconds")
    return value


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
    mode.add_argument("--quit", action="store_true", help="make the running tray app quit")
    mode.add_argument(
        "--install-desktop",
        action="store_true",
        help="add Polaris Tray to your applications menu (a .desktop entry and icons in ~/.local/share)",
    )
    mode.add_argument("--uninstall-desktop", action="store_true", help="remove what --install-desktop added")
    parser.add_argument("--demo", action="store_true", help="use a built-in demo orchestrator on 127.0.0.1")
    parser.add_argument("--server-url", help="orchestrator URL for this run (overrides the settings)")
    parser.add_argument("--interval", type=_interval, help="seconds between heartbeats for this run")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper)
    parser.add_argument("--login", action="store_true", help=argparse.SUPPRESS)  # launched by autostart
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


@dataclass
class RunConfig:
    server_url: str
    interval_s: float
    log_level: str
    miner_id: str | None
    miner_origin: str


def _out(text: str) -> None:
    # A windowed Windows build has no console: sys.stdout is None there.
    if sys.stdout is not None:
        sys.stdout.write(text)
        sys.stdout.flush()


def err(text: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"polaris-tray: {text}\n")


def _print_once(payload: dict) -> None:
    _out(json.dumps(payload) + "\n")


def _config_error(message: str, once: bool) -> int:
    if once:
        _print_once(
            {"ok": False, "status_code": None, "latency_ms": 0, "outcome": "config_error", "error": message}
        )
    err(f"{message}")
    return EXIT_CONFIG


def _resolve_run_config(args, *, once: bool) -> RunConfig | int:
    from polaris_tray.core.miner_id import HOW_TO_SET, resolve_miner_id
    from polaris_tray.core.secret_store import SecretStore
    from polaris_tray.core.settings import SettingsStore
    from polaris_tray.core.urls import InvalidServerUrl, normalize_server_url

    loaded = SettingsStore().load()
    settings = loaded.settings
    for warning in loaded.warnings:
        err(f"{warning}")
    try:
        server_url = normalize_server_url(args.server_url) if args.server_url else settings.server_url
    except InvalidServerUrl as exc:
        return _config_error(str(exc), once)
    resolution = resolve_miner_id(SecretStore())
    for notice in resolution.notices:
        err(f"{notice}")
    if not resolution.miner_id:
        reason = f" The OS keyring: {resolution.keyring_error}" if resolution.keyring_error else ""
        return _config_error(f"No miner id is configured.{reason} {HOW_TO_SET}", once)
    return RunConfig(
        server_url=server_url,
        interval_s=args.interval or settings.interval_s,
        log_level=args.log_level or settings.log_level,
        miner_id=resolution.miner_id,
        miner_origin=resolution.origin,
    )


def _demo_config(args, demo_url: str) -> RunConfig:
    from polaris_tray.core.demo_server import DEMO_INTERVAL_S, DEMO_MINER_ID

    return RunConfig(
        demo_url, args.interval or DEMO_INTERVAL_S, args.log_level or "INFO", DEMO_MINER_ID, "demo"
    )


def cmd_once(args) -> int:
    from polaris_tray.core.engine import HeartbeatEngine
    from polaris_tray.core.logs import setup_logging

    setup_logging(args.log_level or "WARNING", console=True)
    demo = _start_demo() if args.demo else None
    config = _demo_config(args, demo.url) if demo else _resolve_run_config(args, once=True)
    if isinstance(config, int):
        return config
    engine = HeartbeatEngine(config.server_url, config.miner_id)
    try:
        outcome = engine.attempt()
    finally:
        engine.close()
        if demo:
            demo.stop()
    _print_once(outcome.as_json())
    if outcome.ok:
        return EXIT_OK
    return EXIT_CONFIG if outcome.kind.value == "config_error" else EXIT_FAILED


def _start_demo():
    from polaris_tray.core.demo_server import DemoOrchestrator

    return DemoOrchestrator().start()


def cmd_headless(args) -> int:
    from polaris_tray.core import paths
    from polaris_tray.core.engine import HeartbeatEngine
    from polaris_tray.core.headless import BeatLoop, run_until_signal
    from polaris_tray.core.logs import setup_logging
    from polaris_tray.core.pacemaker import Pacemaker
    from polaris_tray.core.redact import mask_secret

    demo = _start_demo() if args.demo else None
    config = _demo_config(args, demo.url) if demo else _resolve_run_config(args, once=False)
    if isinstance(config, int):
        return config
    log_file = setup_logging(config.log_level, None if demo else paths.log_dir())
    log.info(
        "%s %s headless: server %s, every %g s, miner id %s (from %s)%s",
        APP_DISPLAY_NAME,
        __version__,
        config.server_url,
        config.interval_s,
        mask_secret(config.miner_id),
        config.miner_origin,
        f", log {log_file}" if log_file else "",
    )
    engine = HeartbeatEngine(config.server_url, config.miner_id)
    loop = BeatLoop(Pacemaker(engine, config.interval_s))
    try:
        return run_until_signal(loop)
    finally:
        if demo:
            demo.stop()


def cmd_set_miner_id(args) -> int:
    from polaris_tray.core.miner_id import InvalidMinerId, validate_miner_id
    from polaris_tray.core.secret_store import SecretStore, SecretStoreError

    if sys.stdin is None or sys.stdin.closed:
        err("--set-miner-id reads the id from standard input; none was given.")
        return EXIT_CONFIG
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass("Miner id (input hidden): ")
    else:
        text = sys.stdin.readline()
    try:
        miner_id = validate_miner_id(text)
    except InvalidMinerId as exc:
        err(f"{exc}")
        return EXIT_CONFIG
    try:
        SecretStore().set(miner_id)
    except SecretStoreError as exc:
        err(f"the miner id was not stored. {exc}")
        return EXIT_CONFIG
    err("the miner id is stored in the OS keyring.")
    return EXIT_OK


def cmd_forget_miner_id(args) -> int:
    from polaris_tray.core.secret_store import SecretStore, SecretStoreError

    try:
        deleted = SecretStore().delete()
    except SecretStoreError as exc:
        err(f"{exc}")
        return EXIT_CONFIG
    err(
        "the miner id was deleted from the OS keyring."
        if deleted
        else "no miner id was stored in the OS keyring."
    )
    return EXIT_OK


def cmd_autostart(args) -> int:
    from polaris_tray.core.autostart import AutostartError, current_autostart

    entry = current_autostart()
    try:
        if args.autostart == "on":
            entry.enable()
        elif args.autostart == "off":
            entry.disable()
    except AutostartError as exc:
        err(f"{exc}")
        return EXIT_FAILED
    status = entry.status()
    _out(f"{status.state.value}" + (f" {status.location}" if status.location else "") + "\n")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.once:
        return cmd_once(args)
    if args.headless:
        return cmd_headless(args)
    if args.set_miner_id:
        return cmd_set_miner_id(args)
    if args.forget_miner_id:
        return cmd_forget_miner_id(args)
    if args.autostart:
        return cmd_autostart(args)
    if args.install_desktop or args.uninstall_desktop:
        from polaris_tray.core.platform.desktop_install import main as desktop_install

        return desktop_install(args.install_desktop)
    if args.server_url:  # checked before Qt starts, with the same message as the other modes
        from polaris_tray.core.urls import InvalidServerUrl, normalize_server_url

        try:
            normalize_server_url(args.server_url)
        except InvalidServerUrl as exc:
            err(str(exc))
            return EXIT_CONFIG
    from polaris_tray.core.platform.session_bus import settle_session_bus

    settle_session_bus()  # before Qt connects: no autolaunched D-Bus daemon outlives the app
    from polaris_tray.gui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
