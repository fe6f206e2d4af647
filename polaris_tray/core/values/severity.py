"""The one rule from an outcome to its colour: the tray, the chart and the attempts table all ask here.

Green: accepted. Red: retrying cannot help (the user must act). Amber: a transient failure worth retrying.
"""

from __future__ import annotations

from polaris_tray.core.values.link_state import Colour
from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind, needs_user


def outcome_colour(kind: OutcomeKind | None, reason: NetworkReason | None = None) -> Colour:
    """kind None: a stored kind this version does not know (a newer version wrote the row), amber."""
    if kind is None:
        return Colour.AMBER
    if kind is OutcomeKind.ACCEPTED:
        return Colour.GREEN
    return Colour.RED if needs_user(kind, reason) else Colour.AMBER
