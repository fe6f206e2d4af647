"""The one typed result of a heartbeat attempt, shared by every consumer (CLI, worker, state, history)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from polaris_tray.core.values.redact import clean


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
    PROXY = "proxy"  # the proxy did not answer, refused us or refused the tunnel
    PROXY_AUTH = "proxy_auth"  # the proxy wants credentials (HTTP 407): the user must act
    OTHER = "other"


_NEEDS_USER = frozenset({OutcomeKind.NOT_REGISTERED, OutcomeKind.REJECTED, OutcomeKind.CONFIG_ERROR})
_NEEDS_USER_REASONS = frozenset({NetworkReason.TLS, NetworkReason.PROXY_AUTH})


def needs_user(kind: OutcomeKind, reason: NetworkReason | None = None) -> bool:
    """Failures that retrying will not fix: a wrong id, a payload the server refuses, a bad certificate.

    The one rule, here beside the kinds so the outcome, the chart and the table share it without a cycle.
    """
    return kind in _NEEDS_USER or (kind is OutcomeKind.NETWORK_ERROR and reason in _NEEDS_USER_REASONS)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    status_code: int | None = None
    latency_ms: float = 0.0
    error: str | None = None
    reason: NetworkReason | None = None
    retry_after: float | None = None
    last_seen: str | None = None
    commands: tuple[object, ...] = field(default_factory=tuple)  # JSON values, as the orchestrator sent them

    def __post_init__(self) -> None:
        # A safety net under every producer: whatever reaches a log, the history, the console or the UI
        # is one line of bounded length. The producers redact the miner id; this cannot know it.
        for name in ("error", "last_seen"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, clean(value))

    @property
    def ok(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED

    @property
    def needs_attention(self) -> bool:
        """Failures that retrying will not fix: the user must act."""
        return needs_user(self.kind, self.reason)

    def as_json(self) -> dict[str, object]:
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
