"""Starting and stopping the agent as a real process for the benchmarks: one way, shared by all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
MINER = "bench-miner-0001"


def command(frozen: bool) -> list[str]:
    if not frozen:
        return [sys.executable, "-m", "polaris_tray"]
    exe = ROOT / "dist" / "polaris-tray" / "polaris-tray"
    if not exe.exists():
        raise SystemExit("no frozen build in dist/: run python build_scripts/build.py first")
    return [str(exe)]


def launch(
    server_url: str,
    interval: float,
    *,
    display: str | None,
    frozen: bool = False,
    tag: str = "bench",
    home: str | None = None,
):
    """The agent against server_url: headless when display is None, else the tray on that X display."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "POLARIS_"))}
    env.update(
        HOME=home or tempfile.mkdtemp(prefix=f"polaris-{tag}-"),
        POLARIS_MINER_ID=MINER,
        PYTHONPATH=str(ROOT),
        POLARIS_TRAY_INSTANCE=f"polaris-{tag}-{os.getpid()}",
    )
    args = [*command(frozen), "--server-url", server_url, "--interval", str(interval)]
    if display is None:
        args.append("--headless")
        env.pop("DISPLAY", None)
    else:
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    launch.last_env = env  # a second launch with this env reaches the running instance
    return proc, psutil.Process(proc.pid)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
