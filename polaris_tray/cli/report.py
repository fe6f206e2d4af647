"""What the run commands print: the --once JSON line, and a configuration error as each mode wants it."""

from __future__ import annotations

import json

from polaris_tray.console import EXIT_CONFIG, err, out


def print_once(payload: dict, secrets: tuple[str, ...] = ()) -> None:
    """One JSON line; json.dumps escapes every control character, and the miner id is masked."""
    from polaris_tray.core.values.redact import redact

    out(redact(json.dumps(payload), secrets) + "\n")


def config_error(message: str, once: bool) -> int:
    if once:
        print_once(
            {"ok": False, "status_code": None, "latency_ms": 0, "outcome": "config_error", "error": message}
        )
    err(f"{message}")
    return EXIT_CONFIG
