"""System facts for the heartbeat, sampled without ever blocking the beat.

Each reader falls back to the seed's neutral value when the OS cannot say, so a missing sensor or an
odd interface list costs one field, never the heartbeat.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import psutil

from polaris_tray.core.heartbeat.gpu import GpuSampler, add_gpu_fields, shared_sampler
from polaris_tray.core.heartbeat.local_address import local_address_for
from polaris_tray.core.heartbeat.resolve import RESOLVER
from polaris_tray.core.platform.clocks import through_sleep_clock

log = logging.getLogger(__name__)

_SKIPPED_INTERFACES = ("lo", "docker", "veth", "br-", "virbr")
_CPU_SENSOR_HINTS = ("coretemp", "k10temp", "zenpower", "cpu", "soc", "package", "tctl", "tdie", "acpitz")


def system_uptime(boot_time: float | None = None) -> float:
    """Seconds since boot from the OS's own counter, so a wall-clock step cannot move it (see
    core/platform/clocks.py: CLOCK_BOOTTIME, GetTickCount64, macOS's CLOCK_MONOTONIC, all counting sleep);
    wall clock minus psutil's boot time only where none of those exists."""
    clock = through_sleep_clock()
    if clock is not None:
        try:
            return clock()
        except OSError:
            pass
    return max(0.0, time.time() - (boot_time if boot_time is not None else psutil.boot_time()))


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load; psutil emulates it where the OS has none (Windows: zeros for the first
    5 s of the process, then real values)."""
    read = getattr(os, "getloadavg", None) or getattr(psutil, "getloadavg", None)
    if read is None:
        return None
    try:
        return [round(v, 2) for v in read()]
    except (OSError, RuntimeError):
        return None


class CpuMeter:
    """CPU use since the previous sample, from psutil's counters, held per instance (not per thread).

    The first sample is the average since boot: a real reading, where psutil's own first call gives 0.0.
    """

    def __init__(self, cpu_times: Callable[[], object] = psutil.cpu_times) -> None:
        self._cpu_times = cpu_times
        self._last: tuple[float, float] | None = None

    @staticmethod
    def _busy_total(t) -> tuple[float, float]:
        total = sum(t)
        # Guest time is counted inside user/nice already on Linux.
        total -= getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)
        idle = t.idle + getattr(t, "iowait", 0.0)
        return total - idle, total

    def sample(self) -> float:
        busy, total = self._busy_total(self._cpu_times())
        last, self._last = self._last, (busy, total)
        if last is not None:
            busy, total = busy - last[0], total - last[1]
        if total <= 0:
            return 0.0
        return round(min(100.0, max(0.0, busy / total * 100.0)), 1)


def system_disk_root() -> str:
    if sys.platform == "win32":
        return os.environ.get("SystemDrive", "C:") + "\\"
    return "/"


def routed_ip_address(host: str, port: int = 443) -> str | None:
    """The local IPv4 address the OS routes to host from, without ever looking a name up (a lookup
    here would sit on the beat's path, outside its deadline): the address of the last heartbeat
    connection towards host when it went over IPv4, else a UDP connect (it sends no packet) to host
    when it is a literal IPv4 address or to an IPv4 address already resolved for it. None when neither
    is known yet (the caller falls back to the interface scan)."""
    if not host:
        return None
    local = local_address_for(host)
    if local:
        return local
    for address in RESOLVER.known_ipv4(host):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((address, port))
                return sock.getsockname()[0]
        except OSError:
            continue
    return None


def scanned_ip_address(net_if_addrs: Callable[[], dict] = psutil.net_if_addrs) -> str | None:
    """The seed's way: the first IPv4 address of an interface that is not loopback or virtual."""
    try:
        interfaces = net_if_addrs()
    except OSError:
        return None
    for name, addresses in interfaces.items():
        if name.startswith(_SKIPPED_INTERFACES):
            continue
        for addr in addresses:
            if addr.family == socket.AF_INET and not addr.address.startswith("127."):
                return addr.address
    return None


def highest_cpu_temperature(read: Callable[[], dict] | None = None) -> float | None:
    """The hottest CPU/package reading where psutil has sensors (Linux, FreeBSD); else None."""
    if read is None:
        read = getattr(psutil, "sensors_temperatures", None)
        if read is None:
            return None
    try:
        groups = read() or {}
    except (OSError, RuntimeError, ValueError):
        return None
    cpu_values: list[float] = []
    other_values: list[float] = []
    for chip, entries in groups.items():
        for entry in entries:
            value = getattr(entry, "current", None)
            if value is None or not (-40.0 < value < 150.0):
                continue
            names = f"{chip} {getattr(entry, 'label', '')}".lower()
            (cpu_values if any(h in names for h in _CPU_SENSOR_HINTS) else other_values).append(value)
    values = cpu_values or other_values
    return round(max(values), 1) if values else None


@dataclass
class _Cached:
    value: object = None
    at: float = float("-inf")


class SystemSampler:
    """Collects what one heartbeat reports. Slow facts (temperature, routing, boot time) are cached."""

    TEMPERATURE_TTL_S = 30.0
    ROUTE_TTL_S = 300.0

    def __init__(
        self,
        server_host: str,
        clock: Callable[[], float] = time.monotonic,
        gpus: GpuSampler | None = None,
    ) -> None:
        self.server_host = server_host
        self.gpus = gpus or shared_sampler()
        self._clock = clock
        self._cpu = CpuMeter()
        self._temperature = _Cached()
        self._route = _Cached()
        self._boot_time: float | None = None
        self._hostname = platform.node()
        self._os_version = f"{platform.system()} {platform.release()}"
        self._cpu_counts = (psutil.cpu_count(logical=True), psutil.cpu_count(logical=False))

    def _cached(self, slot: _Cached, ttl: float, compute: Callable[[], object]):
        now = self._clock()
        if now - slot.at >= ttl:
            slot.value, slot.at = compute(), now
        return slot.value

    def ip_address(self) -> str:
        routed = self._cached(self._route, self.ROUTE_TTL_S, lambda: routed_ip_address(self.server_host))
        if routed is None:
            self._route.at = float("-inf")  # not known yet (no connection so far): ask again next beat
        return routed or scanned_ip_address() or "0.0.0.0"

    def temperature(self) -> float | None:
        return self._cached(self._temperature, self.TEMPERATURE_TTL_S, highest_cpu_temperature)

    def boot_time(self) -> float:
        if self._boot_time is None:
            self._boot_time = psutil.boot_time()
        return self._boot_time

    def sample(self, network_latency_ms: float) -> tuple[dict, dict, dict]:
        """(metrics, system_info, resource_usage) in the seed's shape."""
        cpu = self._cpu.sample()
        memory = psutil.virtual_memory()
        disk = _disk_usage(system_disk_root())
        boot = self.boot_time()
        metrics = {
            "cpu_usage": float(cpu),
            "memory_usage": float(memory.percent),
            "disk_usage": float(disk.percent) if disk else 0.0,
            "network_latency": round(float(network_latency_ms), 1),
            "temperature": self.temperature(),
        }
        system_info = {
            "hostname": self._hostname,
            "ip_address": self.ip_address(),
            "os_version": self._os_version,
            "uptime": round(system_uptime(boot), 1),
            "last_boot": datetime.fromtimestamp(boot, timezone.utc).isoformat(),
        }
        resources: dict = {
            "cpu_count_logical": self._cpu_counts[0],
            "cpu_count_physical": self._cpu_counts[1],
            "memory_total_bytes": memory.total,
            "memory_available_bytes": memory.available,
        }
        if disk:
            resources["disk_total_bytes"] = disk.total
            resources["disk_free_bytes"] = disk.free
        load = load_average()
        if load is not None:
            resources["load_average"] = load
        add_gpu_fields(metrics, resources, self.gpus.sample())
        return metrics, system_info, resources


def _disk_usage(path: str):
    try:
        return psutil.disk_usage(path)
    except (OSError, RuntimeError) as exc:
        log.warning("Disk usage of %s unavailable: %s", path, exc)
        return None
