"""GPU facts for the heartbeat: NVIDIA through NVML, AMD through sysfs, whichever the machine has.

GPUs are what a miner is paid for, so the beat reports them where it can; where it cannot (no driver, no
GPU, a driver error) the GPU fields are simply absent and the beat goes out as before. Each distinct
error is logged once, never once per beat. The readers return typed GpuReadings; `mean_utilisation` and
`hottest` give the figures the sampler puts into the metrics (nothing here edits a value in place).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from polaris_tray.core.heartbeat.gpu_common import GpuReadError, OnceLogger
from polaris_tray.core.values.payload import GpuReading

log = logging.getLogger(__name__)


class GpuReader(Protocol):
    """What an opener returns: NVML's reader or amdgpu's."""

    def sample(self) -> tuple[GpuReading, ...]: ...


Opener = Callable[[OnceLogger], GpuReader | None]


class GpuSampler:
    """Opens the GPU readers once, when built (before the schedule starts: the ~20 ms of loading NVML
    must not delay a beat), and asks them on every beat after that."""

    def __init__(
        self,
        *,
        openers: tuple[Opener, ...] | None = None,
    ) -> None:
        self._openers = openers
        self._once = OnceLogger()
        self._readers = self._open()

    def _open(self) -> list[GpuReader]:
        if self._openers is None:
            from polaris_tray.core.heartbeat.gpu_amd import open_amd
            from polaris_tray.core.heartbeat.gpu_nvml import open_nvml

            self._openers = (open_nvml, open_amd)
        readers: list[GpuReader] = []
        for opener in self._openers:
            try:
                reader: GpuReader | None = opener(self._once)
            except Exception as exc:  # a GPU library must never cost the heartbeat
                self._once(logging.WARNING, f"GPU readings unavailable: {type(exc).__name__}: {exc}")
                reader = None
            if reader is not None:
                readers.append(reader)
        return readers

    def sample(self) -> tuple[GpuReading, ...]:
        """One reading per GPU; () when none can be read right now."""
        gpus: list[GpuReading] = []
        for reader in self._readers:
            try:
                gpus.extend(reader.sample())
            except GpuReadError as exc:
                self._once(logging.WARNING, f"GPU readings left out of the heartbeat: {exc}")
                return ()
            except Exception as exc:
                self._once(logging.WARNING, f"GPU readings failed ({type(exc).__name__}: {exc})")
                return ()
        return tuple(gpus)


def mean_utilisation(gpus: tuple[GpuReading, ...]) -> float | None:
    """metrics.gpu_usage: the GPUs' mean utilisation; None (left out) without a GPU."""
    if not gpus:
        return None
    return round(sum(g.utilization_percent for g in gpus) / len(gpus), 1)


def hottest(cpu_temperature: float | None, gpus: tuple[GpuReading, ...]) -> float | None:
    """metrics.temperature: the hottest of the CPU and the GPU cores; None where nothing says."""
    if not gpus:
        return cpu_temperature
    temps = [g.temperature_c for g in gpus if g.temperature_c is not None]
    if cpu_temperature is not None:
        temps.append(cpu_temperature)
    return round(float(max(temps)), 1) if temps else None


_shared: list[GpuSampler] = []


def shared_sampler() -> GpuSampler:
    """The process's one sampler: senders are rebuilt (a new server, a Stop that cut a beat) but the GPUs
    are the machine's, so their readers are opened once and each error is logged once per process."""
    if not _shared:
        _shared.append(GpuSampler())
    return _shared[0]
