"""--once: one heartbeat, one JSON line on stdout, an exit code a script can test."""

from __future__ import annotations

from polaris_tray.cli.plan import console_plan, start_demo
from polaris_tray.cli.report import print_once
from polaris_tray.console import EXIT_CONFIG, EXIT_FAILED, EXIT_OK


def cmd_once(args) -> int:
    from polaris_tray.core.heartbeat.engine import HeartbeatEngine
    from polaris_tray.core.storage.logs import setup_logging

    setup_logging(args.log_level or "WARNING", console=True)
    demo = start_demo() if args.demo else None
    config = console_plan(args, once=True, demo=demo)
    if isinstance(config, int):
        if demo:
            demo.stop()
        return config
    engine = HeartbeatEngine(config.server_url, config.miner_id)
    try:
        outcome = engine.attempt()
    finally:
        engine.close()
        if demo:
            demo.stop()
    print_once(outcome.as_json())
    if outcome.ok:
        return EXIT_OK
    return EXIT_CONFIG if outcome.kind.value == "config_error" else EXIT_FAILED
