import socket
from collections import namedtuple
from datetime import datetime, timezone

import psutil
import pytest

from polaris_tray import __version__
from polaris_tray.core.heartbeat import metrics as m
from polaris_tray.core.heartbeat.payload import build_heartbeat
from polaris_tray.core.values.payload import to_json
from polaris_tray.demo.schema import validate_heartbeat

Addr = namedtuple("Addr", "family address netmask broadcast ptp")
Temp = namedtuple("Temp", "label current high critical")
Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")


def sample_payload(**kw):
    sampler = m.SystemSampler("127.0.0.1")
    metrics, info, resources = sampler.sample(12.5)
    return build_heartbeat(
        miner_id="miner-xyz",
        version=__version__,
        metrics=metrics,
        system_info=info,
        resource_usage=resources,
        **kw,
    )


def test_payload_has_exactly_the_seeds_shape_and_is_valid():
    body = sample_payload()
    assert set(body) == {"timestamp", "status", "version", "metrics"}
    assert set(body["metrics"]) == {"miner_id", "system_info", "metrics", "resource_usage", "active_jobs"}
    assert set(body["metrics"]["system_info"]) == {
        "hostname",
        "ip_address",
        "os_version",
        "uptime",
        "last_boot",
    }
    assert set(body["metrics"]["metrics"]) == {
        "cpu_usage",
        "memory_usage",
        "disk_usage",
        "network_latency",
        "temperature",
    }
    assert body["status"] == "online"
    assert body["version"] == __version__
    assert body["metrics"]["active_jobs"] == []
    assert body["metrics"]["metrics"]["network_latency"] == 12.5
    assert validate_heartbeat(body) == []


def test_timestamp_is_aware_utc():
    body = sample_payload(now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert body["timestamp"] == "2026-01-02T03:04:05+00:00"
    assert datetime.fromisoformat(body["timestamp"]).utcoffset().total_seconds() == 0


def test_naive_timestamp_and_bad_status_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        sample_payload(now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="status"):
        sample_payload(status="ONLINE")


def test_resource_usage_holds_useful_facts():
    res = sample_payload()["metrics"]["resource_usage"]
    assert res["cpu_count_logical"] >= 1
    assert res["memory_total_bytes"] > 0
    assert res["disk_total_bytes"] > 0
    assert len(res["load_average"]) == 3


def test_cpu_meter_first_sample_is_since_boot_then_since_previous():
    readings = iter(
        [
            Times(100, 0, 100, 800, 0, 0, 0, 0, 0, 0),  # 20 % busy since boot
            Times(150, 0, 100, 850, 0, 0, 0, 0, 0, 0),  # +50 busy, +50 idle: 50 %
        ]
    )
    meter = m.CpuMeter(lambda: next(readings))
    assert meter.sample() == 20.0
    assert meter.sample() == 50.0


def test_cpu_meter_never_blocks_and_is_real():
    meter = m.CpuMeter()
    first = meter.sample()
    assert 0.0 < first <= 100.0  # since boot: this machine has done some work


def test_no_sensors_means_null_temperature():
    assert m.highest_cpu_temperature(lambda: {}) is None
    assert m.highest_cpu_temperature(lambda: (_ for _ in ()).throw(OSError("no hwmon"))) is None


def test_highest_cpu_temperature_prefers_cpu_chips():
    groups = {
        "nvme": [Temp("Composite", 71.0, None, None)],
        "coretemp": [Temp("Package id 0", 55.0, None, None), Temp("Core 0", 58.5, None, None)],
    }
    assert m.highest_cpu_temperature(lambda: groups) == 58.5
    assert m.highest_cpu_temperature(lambda: {"nvme": [Temp("x", 40.0, None, None)]}) == 40.0
    assert m.highest_cpu_temperature(lambda: {"coretemp": [Temp("bogus", 255.0, None, None)]}) is None


def test_ip_address_routes_to_the_server_host():
    assert m.routed_ip_address("127.0.0.1") == "127.0.0.1"
    assert m.routed_ip_address("") is None
    assert m.routed_ip_address("no-such-host.invalid") is None


def test_interface_scan_skips_loopback_and_virtual():
    interfaces = {
        "lo": [Addr(socket.AF_INET, "127.0.0.1", None, None, None)],
        "docker0": [Addr(socket.AF_INET, "172.17.0.1", None, None, None)],
        "eth0": [
            Addr(socket.AF_INET6, "fe80::1", None, None, None),
            Addr(socket.AF_INET, "192.0.2.7", None, None, None),
        ],
    }
    assert m.scanned_ip_address(lambda: interfaces) == "192.0.2.7"
    assert m.scanned_ip_address(lambda: {"lo": interfaces["lo"]}) is None


def test_no_ipv4_anywhere_gives_zero_address(monkeypatch):
    monkeypatch.setattr(m, "routed_ip_address", lambda host: None)
    monkeypatch.setattr(m, "scanned_ip_address", lambda: None)
    assert m.SystemSampler("example.invalid").ip_address() == "0.0.0.0"


def test_disk_usage_raising_costs_one_field(monkeypatch):
    def broken(path):
        raise OSError("disk gone")

    monkeypatch.setattr(psutil, "disk_usage", broken)
    metrics, _info, resources = m.SystemSampler("127.0.0.1").sample(0.0)
    assert metrics.disk_usage == 0.0
    assert "disk_total_bytes" not in to_json(resources)


def test_system_drive_on_windows(monkeypatch):
    monkeypatch.setattr(m.sys, "platform", "win32")
    monkeypatch.setenv("SystemDrive", "D:")
    assert m.system_disk_root() == "D:\\"
    monkeypatch.setattr(m.sys, "platform", "linux")
    assert m.system_disk_root() == "/"


def test_slow_facts_are_cached_by_the_injected_clock(monkeypatch):
    calls = []
    monkeypatch.setattr(m, "highest_cpu_temperature", lambda: calls.append(1) or 50.0)
    now = [0.0]
    sampler = m.SystemSampler("127.0.0.1", clock=lambda: now[0])
    sampler.temperature()
    sampler.temperature()
    now[0] = 29.0
    sampler.temperature()
    assert len(calls) == 1
    now[0] = 30.0
    sampler.temperature()
    assert len(calls) == 2


def test_schema_catches_what_the_orchestrator_would_reject():
    body = sample_payload()
    del body["metrics"]["metrics"]["cpu_usage"]
    body["metrics"]["system_info"]["uptime"] = "long"
    errors = validate_heartbeat(body)
    assert {tuple(e["loc"]) for e in errors} == {
        ("body", "metrics", "metrics", "cpu_usage"),
        ("body", "metrics", "system_info", "uptime"),
    }
