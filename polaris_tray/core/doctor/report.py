"""One line per link of the chain: a mark, what was found, and the fix when something is wrong."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where it is built (verdict.py), beside the sender: as late as the beat itself
    from polaris_tray.core.heartbeat.runner import ToldOffline


class Mark(str, enum.Enum):
    OK = "✔"
    WARN = "⚠"
    FAIL = "✘"
    SKIP = "–"  # not checked, because a link before it is broken (or --no-send)


@dataclass(frozen=True)
class Check:
    name: str  # "DNS", "TLS and trust", ...
    mark: Mark
    text: str  # what was found, one sentence; never the miner id (masked)
    fix: str = ""  # what to do about it; empty when nothing is to be done
    # the verdict's accepted "offline": a Stopped tray's runner ends its count with it (never rendered)
    told: ToldOffline | None = field(default=None, repr=False, compare=False)

    @property
    def broken(self) -> bool:
        return self.mark is Mark.FAIL


def ok(name: str, text: str) -> Check:
    return Check(name, Mark.OK, text)


def warn(name: str, text: str, fix: str = "") -> Check:
    return Check(name, Mark.WARN, text, fix)


def fail(name: str, text: str, fix: str) -> Check:
    return Check(name, Mark.FAIL, text, fix)


def skipped(name: str, why: str) -> Check:
    return Check(name, Mark.SKIP, f"skipped: {why}")


def render(checks: Iterable[Check]) -> str:
    """Plain text, one line per check (and an indented fix line): what --doctor prints and Copy copies."""
    lines = []
    for check in checks:
        lines.append(f"{check.mark.value} {check.name}: {check.text}")
        if check.fix:
            lines.append(f"    fix: {check.fix}")
    return "\n".join(lines) + "\n"


def summary(checks: list[Check]) -> str:
    broken = [c.name for c in checks if c.broken]
    warned = [c.name for c in checks if c.mark is Mark.WARN]
    if broken:
        return f"Broken: {broken[0]}" + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "") + "."
    if warned:
        return f"Working, with {len(warned)} warning{'s' if len(warned) > 1 else ''}: {', '.join(warned)}."
    return "Everything checked is working."


def exit_code(checks: Iterable[Check]) -> int:
    """0 all good (warnings allowed), 1 something is broken."""
    return 1 if any(c.broken for c in checks) else 0
