"""The one rule from an outcome to its colour: the tray, the chart and the attempts table all ask here.

Green: accepted. Red: retrying cannot help (the user must act). Amber: a transient failure worth retrying.
"""

from __future__ import annotations

from polaris_tray.core.values.link_state import Colour
from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind, needs_user


def outcome_colour(kind: OutcomeKind | None, reason: NetworkReason | None = None) -> Colour:
    """kind None: a stored kind this version does not know (parse_kind), shown amber."""
    if kind is None:
        return Colour.AMBER
    if kind is OutcomeKind.ACCEPTED:
        return Colour.GREEN
    return Colour.RED if needs_user(kind, reason) else Colour.AMBER


def parse_kind(value: str) -> OutcomeKind | None:
    """A stored kind back to the enum; None for a value this version does not know (a newer writer)."""
    try:
        return OutcomeKind(value)
    except ValueError:
        return None


def parse_reason(value: str | None) -> NetworkReason | None:
    try:
        return NetworkReason(value) if value else None
    except ValueError:
        return NetworkReason.OTHER
