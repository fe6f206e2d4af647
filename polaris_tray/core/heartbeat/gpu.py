"""GPU facts for the heartbeat: NVIDIA through NVML, AMD through sysfs, whichever the machine has.

GPUs are what a miner is paid for, so the beat reports them where it can; where it cannot (no driver, no
GPU, a driver error) the GPU fields are simply absent and the beat goes out as before. Each distinct
error is logged once, never once per beat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from polaris_tray.core.heartbeat.gpu_common import GpuReadError, OnceLogger

log = logging.getLogger(__name__)


class GpuSampler:
    """Opens the GPU readers once, when built (before the schedule starts: the ~20 ms of loading NVML
    must not delay a beat), and asks them on every beat after that."""

    def __init__(
        self,
        *,
        openers: tuple[Callable[[OnceLogger], object | None], ...] | None = None,
    ) -> None:
        self._openers = openers
        self._once = OnceLogger()
        self._readers: list = self._open()

    def _open(self) -> list:
        if self._openers is None:
            from polaris_tray.core.heartbeat.gpu_amd import open_amd
            from polaris_tray.core.heartbeat.gpu_nvml import open_nvml

            self._openers = (open_nvml, open_amd)
        readers = []
        for opener in self._openers:
            try:
                reader = opener(self._once)
            except Exception as exc:  # a GPU library must never cost the heartbeat
                self._once(logging.WARNING, f"GPU readings unavailable: {type(exc).__name__}: {exc}")
                reader = None
            if reader is not None:
                readers.append(reader)
        return readers

    def sample(self) -> list[dict]:
        """One entry per GPU; [] when none can be read right now."""
        gpus: list[dict] = []
        for reader in self._readers:
            try:
                gpus.extend(reader.sample())
            except GpuReadError as exc:
                self._once(logging.WARNING, f"GPU readings left out of the heartbeat: {exc}")
                return []
            except Exception as exc:
                self._once(logging.WARNING, f"GPU readings failed ({type(exc).__name__}: {exc})")
                return []
        return gpus


def add_gpu_fields(metrics: dict, resources: dict, gpus: list[dict]) -> None:
    """gpu_usage is the mean utilisation; temperature becomes the hottest of CPU and GPU cores."""
    if not gpus:
        return
    resources["gpus"] = gpus
    usages = [g["utilization_percent"] for g in gpus if g.get("utilization_percent") is not None]
    if usages:
        metrics["gpu_usage"] = round(sum(usages) / len(usages), 1)
    temps = [g["temperature_c"] for g in gpus if g.get("temperature_c") is not None]
    if metrics.get("temperature") is not None:
        temps.append(metrics["temperature"])
    if temps:
        metrics["temperature"] = round(float(max(temps)), 1)


_shared: list[GpuSampler] = []


def shared_sampler() -> GpuSampler:
    """The process's one sampler: engines are rebuilt (a new server, a Stop that cut a beat) but the GPUs
    are the machine's, so their readers are opened once and each error is logged once per process."""
    if not _shared:
        _shared.append(GpuSampler())
    return _shared[0]
