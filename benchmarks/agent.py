"""Starting and stopping the agent as a real process for the benchmarks: one way, shared by all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
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


def service_extras(mode: str) -> tuple[list[str], dict]:
    """headless-service: the Prometheus endpoint on, a watchdog'd NOTIFY_SOCKET, and two GPUs read
    through nvidia-ml-py from the tests' stand-in libnvidia-ml.so.1 (built here with gcc)."""
    if mode != "headless-service":
        return [], {}
    import socket

    from tests.support.fake_nvml import build_fake_nvml

    work = Path(tempfile.mkdtemp(prefix="polaris-bench-service-"))
    nvml = build_fake_nvml(work / "nvml")
    if nvml is None:
        raise SystemExit("headless-service needs gcc for the stand-in NVML library")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(work / "notify"))
    _kept.append(notify)  # read like systemd reads it, for the agent's lifetime
    threading.Thread(target=_drain, args=(notify,), daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "LD_LIBRARY_PATH": str(nvml),
        "FAKE_NVML_GPUS": "Fake H100,30,81559,1024,55,300500;Fake H100,90,81559,40000,83,250000",
        "NOTIFY_SOCKET": str(work / "notify"),
        "WATCHDOG_USEC": "30000000",
    }
    return ["--metrics-listen", f"127.0.0.1:{port}"], env


_kept: list = []


def _drain(sock) -> None:
    while True:
        try:
            sock.recv(4096)
        except OSError:
            return


def launch(
    server_url: str,
    interval: float,
    *,
    display: str | None,
    frozen: bool = False,
    tag: str = "bench",
    extras: tuple[list[str], dict] = ([], {}),
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
    extra_args, extra_env = extras
    env.update(extra_env)
    args = [*command(frozen), "--server-url", server_url, "--interval", str(interval), *extra_args]
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
