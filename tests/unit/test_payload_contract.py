"""One typed definition of the heartbeat body: the builder sends exactly its fields, in its order; the demo
orchestrator demands exactly its required fields, FastAPI-style; and no value is edited after it is built."""

from __future__ import annotations

import copy
import dataclasses
import json
import typing
from datetime import datetime, timezone

import pytest
import requests

from polaris_tray.core.heartbeat import gpu, metrics
from polaris_tray.core.heartbeat.payload import build_heartbeat
from polaris_tray.core.values.payload import (
    FREE_FORM,
    GpuReading,
    HeartbeatBody,
    Metrics,
    MinerReport,
    ResourceUsage,
    SystemInfo,
    to_json,
)
from polaris_tray.demo import schema
from polaris_tray.demo.server import DEMO_MINER_ID, DemoOrchestrator

READINGS = (
    GpuReading(
        index=0,
        name="H100",
        memory_total_mib=81559,
        memory_used_mib=1024,
        utilization_percent=30.0,
        temperature_c=55.0,
        power_w=300.5,
    ),
    GpuReading(index=1, name="H100", utilization_percent=90.0, temperature_c=83.0),
)


class _Reader:
    def __init__(self):
        self.given = []

    def sample(self):
        self.given.append(READINGS)
        return READINGS


def _sampler_with_gpus():
    reader = _Reader()
    return metrics.SystemSampler("127.0.0.1", gpus=gpu.GpuSampler(openers=(lambda _once: reader,))), reader


def _body(miner_id="miner-xyz"):
    sampler, _reader = _sampler_with_gpus()
    m, info, resources = sampler.sample(12.5)
    return build_heartbeat(
        miner_id=miner_id, version="1.2.3", metrics=m, system_info=info, resource_usage=resources
    )


def _sections(cls=HeartbeatBody, loc=("body",)):
    """(loc, class) of every object the demo checks field by field (not the free-form resource_usage),
    read from the type alone."""
    yield loc, cls
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]) and not f.metadata.get(FREE_FORM):
            yield from _sections(hints[f.name], (*loc, f.name))


def _at(body, loc):
    for key in loc[1:]:
        body = body[key]
    return body


def test_the_body_carries_the_types_fields_in_the_types_order():
    body = _body()
    for loc, cls in _sections():
        sent = list(_at(body, loc))
        assert sent == [f.name for f in dataclasses.fields(cls) if f.name in sent], loc
    assert list(body) == ["timestamp", "status", "version", "metrics"]
    assert list(body["metrics"]["metrics"]) == [
        "cpu_usage",
        "memory_usage",
        "disk_usage",
        "network_latency",
        "temperature",
        "gpu_usage",
    ]
    resources = body["metrics"]["resource_usage"]
    assert resources["gpus"] == [to_json(g) for g in READINGS]
    assert list(resources)[-1] == "gpus"


def test_the_demo_demands_exactly_the_fields_the_type_requires():
    """Every field without a default is demanded (missing, FastAPI's words), every other may be absent:
    read from the type, so a field added to it is demanded without the demo changing."""
    body = _body()
    assert schema.validate_heartbeat(body) == []
    demanded = set()
    for loc, cls in _sections():
        for f in dataclasses.fields(cls):
            broken = copy.deepcopy(body)
            parent = _at(broken, loc)
            if f.name not in parent:
                continue  # left out because unknown (active_processes): it may be absent
            del parent[f.name]
            errors = schema.validate_heartbeat(broken)
            required = f.default is dataclasses.MISSING and not f.metadata.get(FREE_FORM)
            if required:
                demanded.add((*loc[1:], f.name))
                assert errors == [
                    {"type": "missing", "loc": [*loc, f.name], "msg": "Field required", "input": parent}
                ], f.name
            else:
                assert errors == [], f.name
    assert demanded == {
        ("timestamp",),
        ("status",),
        ("version",),
        ("metrics",),
        ("metrics", "miner_id"),
        ("metrics", "system_info"),
        ("metrics", "metrics"),
        *(
            ("metrics", "system_info", k)
            for k in ("hostname", "ip_address", "os_version", "uptime", "last_boot")
        ),
        *(("metrics", "metrics", k) for k in ("cpu_usage", "memory_usage", "disk_usage", "network_latency")),
    }


def test_a_field_added_to_the_type_is_sent_and_demanded():
    """A wider SystemInfo: the one serialiser sends its new field and the checks derived from the type
    refuse a body without it; the same body passes against today's type."""
    wider_info = dataclasses.make_dataclass(
        "SystemInfo", [("gpu_driver", str)], bases=(SystemInfo,), frozen=True, kw_only=True
    )
    wider_report = dataclasses.make_dataclass(
        "MinerReport", [("system_info", wider_info)], bases=(MinerReport,), frozen=True, kw_only=True
    )
    wider_body = dataclasses.make_dataclass(
        "HeartbeatBody", [("metrics", wider_report)], bases=(HeartbeatBody,), frozen=True, kw_only=True
    )
    sampler, _ = _sampler_with_gpus()
    m, info, resources = sampler.sample(1.0)
    value = wider_body(
        timestamp=datetime(2026, 1, 2, tzinfo=timezone.utc),
        status="online",
        version="1",
        metrics=wider_report(
            miner_id="m",
            system_info=wider_info(
                **{f.name: getattr(info, f.name) for f in dataclasses.fields(info)}, gpu_driver="550"
            ),
            metrics=m,
            resource_usage=resources,
        ),
    )
    sent = to_json(value)
    assert sent["metrics"]["system_info"]["gpu_driver"] == "550"
    assert schema.validate(sent, wider_body) == []
    del sent["metrics"]["system_info"]["gpu_driver"]
    assert [e["loc"] for e in schema.validate(sent, wider_body)] == [
        ["body", "metrics", "system_info", "gpu_driver"]
    ]
    assert schema.validate_heartbeat(sent) == []


def test_one_serialiser_exact_text():
    """Field order is key order; unknown WHEN_KNOWN facts are left out, an unknown temperature is null;
    datetimes are ISO 8601, tuples lists."""
    value = HeartbeatBody(
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        status="offline",
        version="0.9",
        metrics=MinerReport(
            miner_id="m1",
            system_info=SystemInfo(
                hostname="rig",
                ip_address="192.0.2.7",
                os_version="Linux 6.1",
                uptime=12.5,
                last_boot=datetime(2026, 1, 1, tzinfo=timezone.utc),
            ),
            metrics=Metrics(cpu_usage=1.0, memory_usage=2.0, disk_usage=3.0, network_latency=4.0),
            resource_usage=ResourceUsage(
                cpu_count_logical=8,
                cpu_count_physical=None,
                memory_total_bytes=100,
                memory_available_bytes=50,
                load_average=(0.5, 0.25, 0.0),
            ),
        ),
    )
    assert json.dumps(to_json(value)) == (
        '{"timestamp": "2026-01-02T03:04:05+00:00", "status": "offline", "version": "0.9", "metrics": '
        '{"miner_id": "m1", "system_info": {"hostname": "rig", "ip_address": "192.0.2.7", "os_version": '
        '"Linux 6.1", "uptime": 12.5, "last_boot": "2026-01-01T00:00:00+00:00"}, "metrics": {"cpu_usage": '
        '1.0, "memory_usage": 2.0, "disk_usage": 3.0, "network_latency": 4.0, "temperature": null}, '
        '"resource_usage": {"cpu_count_logical": 8, "cpu_count_physical": null, "memory_total_bytes": 100, '
        '"memory_available_bytes": 50, "load_average": [0.5, 0.25, 0.0]}, "active_jobs": []}}'
    )


def test_sampled_values_cannot_be_edited_and_the_gpu_readings_are_composed_not_patched(monkeypatch):
    monkeypatch.setattr(metrics, "highest_cpu_temperature", lambda: 60.0)  # a CPU at 60 °C
    sampler, reader = _sampler_with_gpus()
    m, info, resources = sampler.sample(1.0)
    for value, name in (
        (m, "temperature"),
        (info, "hostname"),
        (resources, "gpus"),
        (READINGS[0], "power_w"),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, None)
    assert m.temperature == 83.0 and m.gpu_usage == 60.0  # the hottest core, the mean utilisation
    assert resources.gpus == READINGS and reader.given == [READINGS]
    assert READINGS[1].temperature_c == 83.0 and READINGS[0].power_w == 300.5  # the readings as read


def test_the_demo_checks_read_the_type_once_not_per_request(monkeypatch):
    calls = []
    real = schema.get_type_hints
    monkeypatch.setattr(schema, "get_type_hints", lambda *a, **k: calls.append(a) or real(*a, **k))
    body = _body()
    for _ in range(3):
        assert schema.validate_heartbeat(body) == []
    assert calls == []


def test_the_demo_answers_fastapi_style_422s():
    demo = DemoOrchestrator().start()
    try:
        body = _body(DEMO_MINER_ID)
        assert requests.post(f"{demo.url}/heart_beat", json=body, timeout=5).status_code == 200
        body["status"] = "ONLINE"
        body["metrics"]["miner_id"] = ""
        reply = requests.post(f"{demo.url}/heart_beat", json=body, timeout=5)
        assert reply.status_code == 422
        assert reply.json()["detail"] == [
            {
                "type": "enum",
                "loc": ["body", "status"],
                "msg": "Input should be 'online', 'offline' or 'degraded'",
                "input": "ONLINE",
                "ctx": {"expected": "'online', 'offline' or 'degraded'"},
            },
            {
                "type": "string_too_short",
                "loc": ["body", "metrics", "miner_id"],
                "msg": "String should have at least 1 character",
                "input": "",
                "ctx": {"min_length": 1},
            },
        ]
        reply = requests.post(f"{demo.url}/heart_beat", data=b'{"status": ', timeout=5)
        assert reply.status_code == 422
        assert reply.json()["detail"] == [
            {
                "type": "json_invalid",
                "loc": ["body", 11],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting value"},
            }
        ]
    finally:
        demo.stop()
