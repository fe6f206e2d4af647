"""The one typed result of a heartbeat attempt, shared by every consumer (CLI, worker, state, history)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class OutcomeKind(str, enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # 422: the server did not accept the payload's shape
    NOT_REGISTERED = "not_registered"  # 404: this orchestrator does not know the miner id
    RATE_LIMITED = "rate_limited"  # 429, or 503 with Retry-After
    SERVER_ERROR = "server_error"  # any other 3xx/4xx/5xx
    NETWORK_ERROR = "network_error"  # refused, DNS, reset, timeout, TLS
    CONFIG_ERROR = "config_error"  # invalid URL, no miner id: retrying cannot help


class NetworkReason(str, enum.Enum):
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    RESET = "reset"
    TLS = "tls"
    CANCELLED = "cancelled"
    OTHER = "other"


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    status_code: int | None = None
    latency_ms: float = 0.0
    error: str | None = None
    reason: NetworkReason | None = None
    retry_after: float | None = None
    last_seen: str | None = None
    commands: tuple = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED

    @property
    def needs_attention(self) -> bool:
        """Failures that retrying will not fix: the user must act."""
        from polaris_tray.core.status.severity import needs_user  # the one rule, shared with chart and table

        return needs_user(self.kind, self.reason)

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "outcome": self.kind.value,
            "status_code": self.status_code,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error,
            "reason": self.reason.value if self.reason else None,
            "retry_after": self.retry_after,
            "last_seen": self.last_seen,
        }
