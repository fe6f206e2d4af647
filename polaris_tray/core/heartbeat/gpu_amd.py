"""AMD GPUs through the amdgpu driver's sysfs files: no library, a few small reads per beat."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from polaris_tray.core.heartbeat.gpu_common import OnceLogger, read_number
from polaris_tray.core.values.payload import GpuReading

DRM_ROOT = Path("/sys/class/drm")
MIB = 1024 * 1024
_CARD = re.compile(r"card\d+")


def _hwmon(device: Path) -> Path | None:
    found = sorted((device / "hwmon").glob("hwmon*"))
    return found[0] if found else None


def _core_temperature(hwmon: Path) -> float | None:
    """The 'edge' sensor where labelled (the die as a whole), else temp1; sysfs gives millidegrees."""
    chosen = hwmon / "temp1_input"
    for label in sorted(hwmon.glob("temp*_label")):
        try:
            if label.read_text(encoding="ascii").strip() == "edge":
                chosen = label.with_name(label.name.replace("_label", "_input"))
                break
        except (OSError, UnicodeDecodeError):
            continue
    value = read_number(chosen)
    return round(value / 1000, 1) if value is not None else None


class AmdReader:
    def __init__(self, devices: list[tuple[int, Path, str]]) -> None:
        self._devices = devices

    def sample(self) -> tuple[GpuReading, ...]:
        return tuple(gpu for gpu in map(_reading, self._devices) if gpu is not None)


def _reading(device_entry: tuple[int, Path, str]) -> GpuReading | None:
    """One card's reading; None when it no longer reports gpu_busy_percent (gone, or reset)."""
    index, device, name = device_entry
    busy = read_number(device / "gpu_busy_percent")
    if busy is None:
        return None
    total = read_number(device / "mem_info_vram_total")
    used = read_number(device / "mem_info_vram_used")
    total_mib: int | None = None
    used_mib: int | None = None
    if total is not None and used is not None:  # both or neither
        total_mib, used_mib = round(total / MIB), round(used / MIB)
    temperature: float | None = None
    power: float | None = None
    hwmon = _hwmon(device)
    if hwmon is not None:
        temperature = _core_temperature(hwmon)
        microwatts = read_number(hwmon / "power1_average")
        if microwatts is None:
            microwatts = read_number(hwmon / "power1_input")
        if microwatts is not None:
            power = round(microwatts / 1_000_000, 1)
    return GpuReading(
        index=index,
        name=name,
        memory_total_mib=total_mib,
        memory_used_mib=used_mib,
        utilization_percent=float(busy),
        temperature_c=temperature,
        power_w=power,
    )


def _name(device: Path) -> str:
    for candidate in ("product_name", "product_number"):
        try:
            text = (device / candidate).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if text:
            return text[:64]
    return "AMD GPU"


def open_amd(once: OnceLogger, root: Path = DRM_ROOT) -> AmdReader | None:
    """Every DRM card that reports gpu_busy_percent (amdgpu does); None where there is none."""
    try:
        cards = sorted((p for p in root.iterdir() if _CARD.fullmatch(p.name)), key=lambda p: int(p.name[4:]))
    except OSError:
        return None
    devices: list[tuple[int, Path, str]] = []
    for card in cards:
        device = card / "device"
        if read_number(device / "gpu_busy_percent") is not None:
            devices.append((len(devices), device, _name(device)))
    if not devices:
        return None
    logging.getLogger(__name__).info("amdgpu: %d AMD GPU(s)", len(devices))
    return AmdReader(devices)
