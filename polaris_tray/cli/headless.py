"""--headless from the console: the plan is made and logged here; service/beat_thread.py runs it."""

from __future__ import annotations

import logging

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.cli.plan import console_plan, start_demo
from polaris_tray.console import EXIT_CONFIG, err
from polaris_tray.core.storage.journal import stderr_is_journal
from polaris_tray.service.hooks import start_service_hooks

log = logging.getLogger("polaris_tray")


def cmd_headless(args) -> int:
    from polaris_tray.core.heartbeat.cycle import BeatCycle
    from polaris_tray.core.heartbeat.sender import BeatSender
    from polaris_tray.core.storage import paths
    from polaris_tray.core.storage.logs import setup_logging
    from polaris_tray.core.values.redact import mask_secret
    from polaris_tray.service.beat_thread import BeatThread, run_until_signal

    demo = start_demo() if args.demo else None
    config = console_plan(args, once=False, demo=demo)
    if isinstance(config, int):
        if demo:
            demo.stop()
        return config
    # Under systemd the journal keeps the log: no rotating file of our own.
    log_file = setup_logging(config.log_level, None if demo or stderr_is_journal() else paths.log_dir())
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
    from polaris_tray.cli.agent_lock import take_agent_lock

    lock = None if demo else take_agent_lock(config.miner_id)
    if isinstance(lock, int):
        return lock
    if lock:
        lock.note_beating(True, config.server_url)  # for --doctor: which server this agent beats
    service = start_service_hooks(args, config.miner_id)
    if isinstance(service, str):
        if lock:
            lock.release()
        err(service)
        return EXIT_CONFIG
    cycle = BeatCycle(BeatSender(config.server_url, config.miner_id), config.interval_s)
    beat = BeatThread(cycle, miner_origin=config.miner_origin, service=service)
    try:
        return run_until_signal(beat)
    finally:
        service.close()
        if lock:
            lock.release()
        if demo:
            demo.stop()
