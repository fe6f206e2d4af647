"""The heartbeat body, in exactly the seed's shape (the orchestrator's HeartbeatRequest): the sampled values
put together as one HeartbeatBody and serialised by the values layer's one serialiser."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import cast

from polaris_tray.core.values.payload import (
    STATUSES,
    HeartbeatBody,
    Json,
    Metrics,
    MinerReport,
    ResourceUsage,
    Status,
    SystemInfo,
    to_json,
)


def build_heartbeat(
    *,
    miner_id: str,
    version: str,
    metrics: Metrics,
    system_info: SystemInfo,
    resource_usage: ResourceUsage,
    status: str = "online",
    now: datetime | None = None,
) -> dict[str, Json]:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    when = now or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise ValueError("the heartbeat timestamp must be timezone-aware")
    body = HeartbeatBody(
        timestamp=when.astimezone(timezone.utc),
        status=cast(Status, status),  # checked against STATUSES above
        version=version,
        metrics=MinerReport(
            miner_id=miner_id,
            system_info=system_info,
            metrics=metrics,
            resource_usage=resource_usage,
        ),
    )
    return to_json(body)
