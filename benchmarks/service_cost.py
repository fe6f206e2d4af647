"""What server mode adds to one beat, in-process and without the noise of a whole agent: the GPU readings
(two GPUs through nvidia-ml-py and the tests' stand-in libnvidia-ml.so.1), and the hooks the loop calls
(Prometheus counters, sd_notify datagrams). Prints microseconds per beat.

    .venv/bin/python benchmarks/service_cost.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N = 5000


def per_call_us(fn, n: int = N) -> float:
    fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def measure_gpu() -> None:
    from polaris_tray.core.heartbeat.gpu import GpuSampler

    sampler = GpuSampler()
    print(f"GPUs found: {len(sampler.sample())}")
    print(f"GPU readings per beat: {per_call_us(sampler.sample):.1f} µs")


def measure_hooks() -> None:
    from polaris_tray.core.values.outcome import Outcome, OutcomeKind
    from polaris_tray.service.hooks import ServiceHooks
    from polaris_tray.service.metrics_http import AgentMetrics
    from polaris_tray.service.supervisor_updates import SupervisorUpdates
    from polaris_tray.service.systemd_notify import SystemdNotifier

    work = Path(tempfile.mkdtemp())
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    reader.bind(str(work / "notify"))
    reader.setblocking(False)
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(work / "notify"), "WATCHDOG_USEC": "30000000"})
    hooks = ServiceHooks(SupervisorUpdates(notifier, clock=iter(range(10**9)).__next__), AgentMetrics())
    outcome = Outcome(OutcomeKind.ACCEPTED, status_code=200, latency_ms=3.0)

    def beat():
        hooks.outcome(outcome)
        hooks.alive()  # a fake clock that always moves on: a datagram every call, the worst case
        try:
            while True:
                reader.recv(64)
        except BlockingIOError:
            pass

    print(f"hooks per beat (counters + one WATCHDOG datagram): {per_call_us(beat):.1f} µs")


def main() -> int:
    if os.environ.get("_SERVICE_COST_CHILD"):
        measure_gpu()
        return 0
    from tests.support.fake_nvml import build_fake_nvml

    nvml = build_fake_nvml(Path(tempfile.mkdtemp()) / "nvml")
    env = dict(
        os.environ,
        _SERVICE_COST_CHILD="1",
        LD_LIBRARY_PATH=str(nvml),
        FAKE_NVML_GPUS="Fake H100,30,81559,1024,55,300500;Fake H100,90,81559,40000,83,250000",
    )
    subprocess.run([sys.executable, __file__], env=env, check=True)  # LD_LIBRARY_PATH needs a new process
    measure_hooks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
