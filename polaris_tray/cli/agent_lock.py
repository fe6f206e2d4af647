"""One agent per user (or per miner under systemd): headless takes the same lock as the tray."""

from __future__ import annotations

from polaris_tray.console import EXIT_ALREADY_RUNNING, EXIT_FAILED, err


def take_agent_lock(miner_id: str | None):
    """The tray's per-user lock, or under systemd one per miner in the unit's own directory."""
    from polaris_tray.core.platform.instance_dir import InstanceLock, service_dir

    try:
        directory = service_dir()
        lock = InstanceLock.for_miner(miner_id or "", directory) if directory else InstanceLock()
        if lock.acquire("headless"):
            return lock
    except OSError as exc:
        err(f"cannot take the single-instance lock: {exc}")
        return EXIT_FAILED
    holder = lock.holder() or "unknown"
    err(f"another agent already runs for this {'miner' if directory else 'user'} ({holder}); not starting.")
    return EXIT_ALREADY_RUNNING
