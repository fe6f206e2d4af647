"""--host-root: read the machine's figures through the host's /proc mounted elsewhere (a container's
/host/proc, as node_exporter's --path.procfs does), so a containerised agent reports the node, not itself.

psutil reads every /proc file under its module-wide PROCFS_PATH; that is the one switch.
"""

from __future__ import annotations

import sys
from pathlib import Path


def use_host_root(root: str) -> str | None:
    """Points psutil at ROOT/proc; an error message when that is not a procfs (nothing is changed then)."""
    if sys.platform != "linux":
        return f"--host-root {root}: only Linux reads its figures from a /proc, so this option is for Linux."
    proc = Path(root) / "proc"
    if not (proc / "stat").is_file() or not (proc / "meminfo").is_file():
        return (
            f"--host-root {root}: {proc} is not the host's /proc (no stat or meminfo there). "
            f"Mount it read-only at {proc}, or leave --host-root out."
        )
    import psutil

    psutil.PROCFS_PATH = str(proc)
    return None
