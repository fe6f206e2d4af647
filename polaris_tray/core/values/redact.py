"""Masking of the miner id and taming of server text: the one secret this app handles must never reach a
log, a screen or stdout, and text a server wrote must not forge a log line or flood a file."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_TEXT = 300
# Control characters (C0, DEL, C1) and the Unicode line/paragraph separators: each could end a log line
# or start a terminal escape sequence. Tabs and newlines become spaces like the rest.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


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


def one_line(text: str) -> str:
    """No control character survives: a server's newline or ESC becomes a space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def clean(text: object, secrets: Iterable[str] = (), limit: int = MAX_TEXT) -> str:
    """Server or exception text made safe to show and store: redact first (on the whole text, so an id
    that straddles the cut is still found), then one line, then at most `limit` characters."""
    text = one_line(redact(str(text), tuple(secrets)))
    return text if len(text) <= limit else text[: limit - 1] + "…"
