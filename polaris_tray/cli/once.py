"""--once: one heartbeat, one JSON line on stdout, an exit code a script can test."""

from __future__ import annotations

import logging

from polaris_tray.cli.plan import console_plan, start_demo
from polaris_tray.cli.report import print_once
from polaris_tray.console import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, err
from polaris_tray.core.values.outcome import Outcome, OutcomeKind


def cmd_once(args) -> int:
    from polaris_tray.core.heartbeat.sender import BeatSender
    from polaris_tray.core.storage.logs import setup_logging

    setup_logging(args.log_level or "WARNING", console=True)
    demo = start_demo() if args.demo else None
    config = console_plan(args, once=True, demo=demo)
    if isinstance(config, int):
        if demo:
            demo.stop()
        return config
    try:
        sender = BeatSender(config.server_url, config.miner_id)
        try:
            outcome = sender.attempt()
        finally:
            sender.close()
    except Exception as exc:  # the promise of --once is one JSON line, whatever happened
        logging.getLogger(__name__).debug("--once failed", exc_info=True)
        outcome = Outcome(OutcomeKind.NETWORK_ERROR, error=f"Internal error: {type(exc).__name__}")
    finally:
        if demo:
            demo.stop()
    # The outcome's texts are redacted where they were made; this is the net under them.
    secrets = (config.miner_id,) if config.miner_id else ()
    print_once(outcome.as_json(), secrets)
    if outcome.ok:
        return EXIT_OK
    err(failure_sentence(outcome, secrets))
    return EXIT_CONFIG if outcome.kind is OutcomeKind.CONFIG_ERROR else EXIT_FAILED


def failure_sentence(outcome: Outcome, secrets: tuple[str, ...] = ()) -> str:
    """The one human sentence a failed --once adds on stderr (stdout keeps its one JSON line)."""
    from polaris_tray.core.values.redact import clean

    why = clean(outcome.error or outcome.kind.value.replace("_", " "), secrets)
    return f"the heartbeat was not accepted: {why.rstrip('.')}; `polaris-tray --doctor` checks each link."
