"""System facts for the heartbeat, sampled without ever blocking the beat.

Each reader falls back to the seed's neutral value when the OS cannot say, so a missing sensor or an
odd interface list costs one field, never the heartbeat. The sampler composes the typed values of
core/values/payload.py from the readings (the GPUs' included); nothing edits them afterwards.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import psutil

from polaris_tray.core.heartbeat.gpu import GpuSampler, hottest, mean_utilisation, shared_sampler
from polaris_tray.core.heartbeat.local_address import local_address_for
from polaris_tray.core.platform.clocks import through_sleep_clock
from polaris_tray.core.platform.resolve import RESOLVER
from polaris_tray.core.values.payload import Metrics, ResourceUsage, SystemInfo

if TYPE_CHECKING:
    from psutil._ntuples import sdiskusage, snicaddr

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


def load_average() -> tuple[float, ...] | None:
    """1, 5 and 15 minute load; psutil emulates it where the OS has none (Windows: zeros for the first
    5 s of the process, then real values)."""
    read: Callable[[], tuple[float, float, float]] | None = getattr(os, "getloadavg", None) or getattr(
        psutil, "getloadavg", None
    )
    if read is None:
        return None
    try:
        return tuple(round(v, 2) for v in read())
    except (OSError, RuntimeError):
        return None


class CpuTimes(Protocol):
    """psutil's cpu_times(): seconds per state; iowait, guest and guest_nice where the OS has them."""

    @property
    def idle(self) -> float: ...

    def __iter__(self) -> Iterator[float]: ...


class CpuMeter:
    """CPU use since the previous sample, from psutil's counters, held per instance (not per thread).

    The first sample is the average since boot: a real reading, where psutil's own first call gives 0.0.
    """

    def __init__(self, cpu_times: Callable[[], CpuTimes] = psutil.cpu_times) -> None:
        self._cpu_times = cpu_times
        self._last: tuple[float, float] | None = None

    @staticmethod
    def _busy_total(t: CpuTimes) -> tuple[float, float]:
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
                local_ip: str = sock.getsockname()[0]
                return local_ip
        except OSError:
            continue
    return None


def scanned_ip_address(
    net_if_addrs: Callable[[], Mapping[str, Sequence[snicaddr]]] = psutil.net_if_addrs,
) -> str | None:
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


def highest_cpu_temperature(read: Callable[[], Mapping[str, Sequence[object]]] | None = None) -> float | None:
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


T = TypeVar("T")


class _Cached(Generic[T]):
    """A slow fact, read again once `ttl` seconds of the sampler's clock have passed."""

    def __init__(self, ttl: float, read: Callable[[], T], clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._read = read
        self._clock = clock
        self._kept: tuple[T] | None = None
        self._at = float("-inf")

    def get(self) -> T:
        now = self._clock()
        kept = self._kept
        if kept is None or now - self._at >= self._ttl:
            kept = self._kept = (self._read(),)
            self._at = now
        return kept[0]

    def forget(self) -> None:
        """Read it again next time."""
        self._at = float("-inf")


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
        self._cpu = CpuMeter()
        self._temperature = _Cached(self.TEMPERATURE_TTL_S, highest_cpu_temperature, clock)
        self._route = _Cached(self.ROUTE_TTL_S, lambda: routed_ip_address(self.server_host), clock)
        self._boot_time: float | None = None
        self._hostname = platform.node()
        self._os_version = f"{platform.system()} {platform.release()}"
        self._cpu_counts = (psutil.cpu_count(logical=True), psutil.cpu_count(logical=False))

    def ip_address(self) -> str:
        routed = self._route.get()
        if routed is None:
            self._route.forget()  # not known yet (no connection so far): ask again next beat
        return routed or scanned_ip_address() or "0.0.0.0"

    def temperature(self) -> float | None:
        return self._temperature.get()

    def boot_time(self) -> float:
        if self._boot_time is None:
            self._boot_time = psutil.boot_time()
        return self._boot_time

    def sample(self, network_latency_ms: float) -> tuple[Metrics, SystemInfo, ResourceUsage]:
        """(metrics, system_info, resource_usage) as the seed's body carries them."""
        cpu = self._cpu.sample()
        memory = psutil.virtual_memory()
        disk = _disk_usage(system_disk_root())
        boot = self.boot_time()
        gpus = self.gpus.sample()
        metrics = Metrics(
            cpu_usage=float(cpu),
            memory_usage=float(memory.percent),
            disk_usage=float(disk.percent) if disk else 0.0,
            network_latency=round(float(network_latency_ms), 1),
            temperature=hottest(self.temperature(), gpus),
            gpu_usage=mean_utilisation(gpus),
        )
        system_info = SystemInfo(
            hostname=self._hostname,
            ip_address=self.ip_address(),
            os_version=self._os_version,
            uptime=round(system_uptime(boot), 1),
            last_boot=datetime.fromtimestamp(boot, timezone.utc),
        )
        resources = ResourceUsage(
            cpu_count_logical=self._cpu_counts[0],
            cpu_count_physical=self._cpu_counts[1],
            memory_total_bytes=memory.total,
            memory_available_bytes=memory.available,
            disk_total_bytes=disk.total if disk else None,
            disk_free_bytes=disk.free if disk else None,
            load_average=load_average(),
            gpus=gpus or None,
        )
        return metrics, system_info, resources


def _disk_usage(path: str) -> sdiskusage | None:
    try:
        return psutil.disk_usage(path)
    except (OSError, RuntimeError) as exc:
        log.warning("Disk usage of %s unavailable: %s", path, exc)
        return None
