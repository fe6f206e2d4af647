"""Small builders for the status window's labels, and the words they show beside the core's."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

HEADLINE_CHARS = 60
CONFIRM_ONLINE = (
    "Online — counted by Polaris. The icon stays green while the orchestrator counts this computer online; "
    "you can close this window."
)


def label(text: str = "", *, name: str = "", scale: float = 1.0, bold: bool = False, wrap: bool = False):
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    if scale != 1.0 or bold:
        font = widget.font()
        font.setPointSizeF(font.pointSizeF() * scale)
        font.setBold(bold)
        widget.setFont(font)
    widget.setWordWrap(wrap)
    return widget


def short(text: str, limit: int = HEADLINE_CHARS) -> str:
    """The first line, cut to `limit` characters with an ellipsis: the whole text goes in a tooltip."""
    first = text.split("\n", 1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def details_text(lines: list[str], snap) -> str:
    """The detail lines with the whole server URL (a wrong path is visible), then the masked id."""
    url = f"Server: {breakable(snap.server_url)}"
    shown = [url if line.startswith("Server: ") else line for line in lines]
    if url not in shown:
        shown.append(url)
    return "\n".join([*shown, f"Miner id: {snap.miner_id_masked}"])


def breakable(url: str) -> str:
    """A long URL may wrap after a slash (a zero-width space): a label wraps only where it may break."""
    return url.replace("/", "/\u200b") if len(url) > 40 else url
