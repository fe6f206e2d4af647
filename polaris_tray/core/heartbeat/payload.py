"""The heartbeat body, in exactly the seed's shape (the orchestrator's HeartbeatRequest)."""

from __future__ import annotations

from datetime import datetime, timezone

VALID_STATUSES = ("online", "offline", "degraded")


def build_heartbeat(
    *,
    miner_id: str,
    version: str,
    metrics: dict,
    system_info: dict,
    resource_usage: dict | None = None,
    status: str = "online",
    now: datetime | None = None,
) -> dict:
    if status not in VALID_STATUSES:
        raise ValueError(f"status must be one of {VALID_STATUSES}")
    when = now or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise ValueError("the heartbeat timestamp must be timezone-aware")
    return {
        "timestamp": when.astimezone(timezone.utc).isoformat(),
        "status": status,
        "version": version,
        "metrics": {
            "miner_id": miner_id,
            "system_info": system_info,
            "metrics": metrics,
            "resource_usage": resource_usage or {},
            "active_jobs": [],
        },
    }
