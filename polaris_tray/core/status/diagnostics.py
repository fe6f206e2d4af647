"""The text behind "Copy diagnostics": what support needs, and never the miner id."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

from polaris_tray import __version__
from polaris_tray.core.config.settings import Settings
from polaris_tray.core.status.snapshot import Snapshot, detail_lines
from polaris_tray.core.storage.history_schema import Attempt


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class InUse:
    """The configuration the heartbeat runs with now: saved settings, command-line overrides or the demo."""

    server_url: str
    interval_s: float
    demo: bool = False
    overrides: tuple[str, ...] = ()  # e.g. ("--server-url",): which values the command line set


def diagnostics_text(
    snapshot: Snapshot | None,
    settings: Settings,
    recent: list[Attempt],
    *,
    qt_version: str = "",
    keyring_backend: str = "",
    now_wall: float,
    in_use: InUse | None = None,
) -> str:
    lines = [
        f"Polaris Tray {__version__}",
        f"Python {platform.python_version()} ({sys.platform}), {platform.platform()}",
    ]
    if qt_version:
        lines.append(f"Qt {qt_version}")
    if keyring_backend:
        lines.append(f"Keyring: {keyring_backend}")
    if in_use is not None:
        lines += [
            "",
            "In use:",
            f"  server_url: {in_use.server_url}",
            f"  interval_s: {in_use.interval_s:g}",
            f"  mode: {'demo (local demo orchestrator, settings not used)' if in_use.demo else 'normal'}",
            f"  set on the command line: {', '.join(in_use.overrides) or 'nothing'}",
        ]
    lines += ["", "Saved settings:" if in_use is not None else "Settings:"]
    if in_use is None or in_use.server_url != settings.server_url:
        lines.append(f"  server_url: {settings.server_url}" + (" (not in use)" if in_use else ""))
    if in_use is None or in_use.interval_s != settings.interval_s:
        lines.append(f"  interval_s: {settings.interval_s:g}" + (" (not in use)" if in_use else ""))
    lines += [
        f"  start_heartbeat_on_launch: {settings.start_heartbeat_on_launch}",
        f"  notifications: {settings.notifications}",
        f"  log_level: {settings.log_level}",
    ]
    if snapshot is not None:
        lines += [
            "",
            "State:",
            *(f"  {line}" for line in detail_lines(snapshot, now_wall)),
            f"  Miner id: {snapshot.miner_id_masked} (from {snapshot.miner_origin})",
        ]
    lines += ["", f"Last {len(recent)} attempts (newest first):"]
    for attempt in recent:
        code = attempt.status_code if attempt.status_code is not None else "-"
        error = f"  {attempt.error}" if attempt.error else ""
        when, kind, latency = _when(attempt.at), attempt.outcome, attempt.latency_ms
        lines.append(f"  {when}  {kind:<15} {code!s:>4} {latency:8.1f} ms{error}")
    return "\n".join(lines) + "\n"
