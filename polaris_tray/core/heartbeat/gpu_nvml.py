"""NVIDIA GPUs through NVML (nvidia-ml-py): loaded and initialised once, a few C calls per beat."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from polaris_tray.core.heartbeat.gpu_common import GpuReadError, OnceLogger
from polaris_tray.core.values.payload import GpuReading

log = logging.getLogger(__name__)
MIB = 1024 * 1024
LIBRARY = "libnvidia-ml.so.1"  # the name nvidia-ml-py asks the dynamic loader for on Linux
LD_CACHE = Path("/etc/ld.so.cache")
DEFAULT_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64")
LD_CACHE_MAX = 64 * 1024 * 1024


def nvml_library_findable(
    environ: Mapping[str, str] | None = None, ld_cache: Path = LD_CACHE, platform: str = sys.platform
) -> bool:
    """Could the dynamic loader find NVIDIA's library? Asked before importing nvidia-ml-py, whose import
    alone costs about 3 MB of private memory: on the many machines with no NVIDIA driver the agent then
    never pays it. Looks where dlopen looks (LD_LIBRARY_PATH, the ld.so cache, the default dirs); when in
    doubt (another OS, an unreadable cache) the answer is yes and the import decides."""
    if not platform.startswith("linux"):
        return True
    environ = os.environ if environ is None else environ
    dirs = [d for d in environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    if any(Path(d, LIBRARY).exists() for d in (*dirs, *DEFAULT_DIRS)):
        return True
    try:
        with open(ld_cache, "rb") as cache:
            return LIBRARY.encode() in cache.read(LD_CACHE_MAX)
    except OSError:
        return True


class NvmlReader:
    def __init__(self, nvml: Any, handles: list[tuple[int, object, str]], once: OnceLogger) -> None:
        self._nvml = nvml  # the pynvml module (untyped)
        self._handles = handles
        self._once = once

    def _optional(self, what: str, read: Callable[[object], float], handle: object) -> float | None:
        """Temperature and power: some boards cannot say; that field alone is left out."""
        try:
            return read(handle)
        except self._nvml.NVMLError as exc:
            if not isinstance(exc, self._nvml.NVMLError_NotSupported):
                self._once(logging.WARNING, f"NVML {what} unreadable: {exc}")
            return None

    def _temperature_c(self, handle: object) -> float:
        return float(self._nvml.nvmlDeviceGetTemperature(handle, self._nvml.NVML_TEMPERATURE_GPU))

    def _power_w(self, handle: object) -> float:
        milliwatts: int = self._nvml.nvmlDeviceGetPowerUsage(handle)
        return round(milliwatts / 1000, 1)

    def sample(self) -> tuple[GpuReading, ...]:
        nvml = self._nvml
        gpus = []
        for index, handle, name in self._handles:
            try:
                util = nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            except nvml.NVMLError as exc:
                raise GpuReadError(f"NVML error on GPU {index}: {exc}") from None
            temperature = self._optional("temperature", self._temperature_c, handle)
            power = self._optional("power", self._power_w, handle)
            gpus.append(
                GpuReading(
                    index=index,
                    name=name,
                    memory_total_mib=round(memory.total / MIB),
                    memory_used_mib=round(memory.used / MIB),
                    utilization_percent=float(util.gpu),
                    temperature_c=temperature,
                    power_w=power,
                )
            )
        return tuple(gpus)


_opened: list[NvmlReader | None] = []  # the one result of opening NVML in this process: a reader or None


def open_nvml(once: OnceLogger) -> NvmlReader | None:
    """Opened once per process, however many BeatSenders come and go (the cycle rebuilds its sender)."""
    if not _opened:
        _opened.append(_open_nvml(once))
    return _opened[0]


def _open_nvml(once: OnceLogger) -> NvmlReader | None:
    """None where there is no nvidia-ml-py, no driver library or no GPU: that is no error."""
    if not nvml_library_findable():
        log.debug("No %s: no NVIDIA GPU readings", LIBRARY)
        return None
    try:
        import pynvml as nvml
    except ImportError:
        return None
    try:
        nvml.nvmlInit()
    except nvml.NVMLError_LibraryNotFound:
        log.debug("No NVML library: no NVIDIA GPU readings")
        return None
    except nvml.NVMLError as exc:
        once(logging.WARNING, f"NVML did not start: {exc}; no NVIDIA GPU readings")
        return None
    try:
        handles: list[tuple[int, object, str]] = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = nvml.nvmlDeviceGetName(handle)
            handles.append((index, handle, name.decode() if isinstance(name, bytes) else str(name)))
    except nvml.NVMLError as exc:
        once(logging.WARNING, f"NVML could not list the GPUs: {exc}; no NVIDIA GPU readings")
        handles = []
    if not handles:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError:
            pass
        return None
    log.info("NVML: %d NVIDIA GPU(s): %s", len(handles), ", ".join(h[2] for h in handles))
    return NvmlReader(nvml, handles, once)
