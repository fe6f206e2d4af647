"""The heartbeat body as typed values, defined once: the sampler and the GPU readers fill them, `to_json` is
the one place they become JSON, and the demo orchestrator derives its checks from the same classes.

Frozen dataclasses rather than TypedDicts, because serialisation must be exact and values must not be
patched after the fact: a frozen value cannot be edited once built (GPU figures used to be written into the
metrics dict in place); the order of a class's fields is the order of the keys on the wire; and whether an
unknown fact goes out as null or is left out is said once per field (`WHEN_KNOWN`), not at every place
that builds a dict. The bottom layer: it imports nothing else of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Annotated, Literal, TypeAlias, get_args

Status = Literal["online", "offline", "degraded"]
STATUSES: tuple[str, ...] = get_args(Status)

LEFT_OUT_WHEN_NONE = "left out when None"
FREE_FORM = "free-form for the orchestrator"
# A fact the body carries only when it is known: None leaves the key out (where a field without this
# marker goes out as null).
WHEN_KNOWN = {LEFT_OUT_WHEN_NONE: True}
# An object the orchestrator takes as it comes, or {} when absent: only its kind is checked, not its keys.
FREE_FORM_OBJECT = {FREE_FORM: True}


@dataclass(frozen=True)
class MinLength:
    """Annotated on a str: the orchestrator refuses a shorter one."""

    chars: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuReading:
    """One GPU as NVML or amdgpu's sysfs files report it (in resource_usage.gpus)."""

    index: int
    name: str
    memory_total_mib: int | None = field(default=None, metadata=WHEN_KNOWN)
    memory_used_mib: int | None = field(default=None, metadata=WHEN_KNOWN)
    utilization_percent: float
    temperature_c: float | None = field(default=None, metadata=WHEN_KNOWN)
    power_w: float | None = field(default=None, metadata=WHEN_KNOWN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """metrics.metrics: the seed's five readings, and the orchestrator's optional GPU and process figures."""

    cpu_usage: float
    memory_usage: float
    disk_usage: float
    network_latency: float
    temperature: float | None = None  # the hottest CPU or GPU core; null where no sensor says
    gpu_usage: float | None = field(default=None, metadata=WHEN_KNOWN)  # the GPUs' mean utilisation
    active_processes: int | None = field(default=None, metadata=WHEN_KNOWN)  # in the server's model; not sent


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemInfo:
    """metrics.system_info: who this machine is and how long it has been up."""

    hostname: str
    ip_address: str
    os_version: str
    uptime: float  # seconds
    last_boot: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceUsage:
    """metrics.resource_usage: free-form for the orchestrator; these are the facts the agent adds."""

    cpu_count_logical: int | None
    cpu_count_physical: int | None
    memory_total_bytes: int
    memory_available_bytes: int
    disk_total_bytes: int | None = field(default=None, metadata=WHEN_KNOWN)
    disk_free_bytes: int | None = field(default=None, metadata=WHEN_KNOWN)
    load_average: tuple[float, ...] | None = field(default=None, metadata=WHEN_KNOWN)  # 1, 5, 15 minutes
    gpus: tuple[GpuReading, ...] | None = field(default=None, metadata=WHEN_KNOWN)


@dataclass(frozen=True, slots=True, kw_only=True)
class MinerReport:
    """The body's "metrics" object: the miner and what it reports."""

    miner_id: Annotated[str, MinLength(1)]
    system_info: SystemInfo
    metrics: Metrics
    resource_usage: ResourceUsage = field(metadata=FREE_FORM_OBJECT)
    active_jobs: tuple[()] = ()  # the agent runs no jobs; the orchestrator takes a list


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatBody:
    """The orchestrator's HeartbeatRequest, in the seed's shape."""

    timestamp: datetime  # timezone-aware
    status: Status
    version: str
    metrics: MinerReport


Section: TypeAlias = "HeartbeatBody | MinerReport | SystemInfo | Metrics | ResourceUsage | GpuReading"
SECTIONS = (HeartbeatBody, MinerReport, SystemInfo, Metrics, ResourceUsage, GpuReading)
Json: TypeAlias = "str | int | float | bool | list[Json] | dict[str, Json] | None"

Plan = tuple[tuple[str, bool], ...]  # a class's (field name, left out when None), in field order


def _plan(cls: type) -> Plan:
    return tuple((f.name, bool(f.metadata.get(LEFT_OUT_WHEN_NONE))) for f in fields(cls))


_PLANS: dict[type, Plan] = {cls: _plan(cls) for cls in SECTIONS}  # read once, never per beat


def to_json(value: Section) -> dict[str, Json]:
    """The one serialiser: keys in field order, WHEN_KNOWN fields left out when None, datetimes as ISO 8601
    text, tuples as lists."""
    cls = type(value)
    plan = _PLANS.get(cls) or _PLANS.setdefault(cls, _plan(cls))  # a subclass's once, when first seen
    out: dict[str, Json] = {}
    for name, left_out_when_none in plan:
        item = getattr(value, name)
        if item is None:
            if not left_out_when_none:
                out[name] = None
        else:
            out[name] = _json(item)
    return out


def _json(item: object) -> Json:
    if isinstance(item, (str, int, float)):
        return item
    if isinstance(item, datetime):
        return item.isoformat()
    if isinstance(item, tuple):
        return [_json(element) for element in item]
    if isinstance(item, SECTIONS):
        return to_json(item)
    raise TypeError(f"no JSON form for {type(item).__name__}")
