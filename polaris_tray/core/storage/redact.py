"""Masking of the miner id: the one secret this app handles must never reach a log, a screen or stdout."""

from __future__ import annotations

from collections.abc import Iterable


def mask_secret(value: str | None) -> str:
    """Enough to tell two ids apart, not enough to use one."""
    if not value:
        return "(none)"
    return f"{value[:4]}…" if len(value) > 4 else "…"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, mask_secret(secret))
    return text
