"""deploy/grafana/polaris-fleet.json: every panel's PromQL made into a recording rule (generated here from
the JSON) and evaluated by `promtool test rules` against three synthetic agents over 24 h; the fleet alert
rules beside it evaluated on the same series."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.app import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "polaris-fleet.json"
ALERTS = ROOT / "resources" / "prometheus" / "polaris-alerts.yml"
STEPS = 5760 + 8  # 24 h and 2 min of 15 s scrapes (the panels are read at 24 h 1 min)
HALF = 2880  # 12 h
EVAL, EVAL_STEP = (
    "24h1m",
    5764,
)  # the uptime window then holds exactly 720 two-minute points whichever end is open
VARIABLES = {"$latest_version": "0.1.0", "$job": "polaris-agent"}
TAG_SHARED = "9a8b7c6d5e4f30211203a4b5"
R1, R2, R3 = ({"instance": f"rig{n}:9464", "job": "polaris-agent"} for n in (1, 2, 3))


def _series(name: str, labels: dict, values: str) -> dict:
    body = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{body}}}", "values": values}


def _agent(labels, *, last, accepted, failed, failed_as, streak, answered, version, state, memory):
    """One agent's series as its /metrics would give them every 15 s."""
    out = [
        _series("polaris_heartbeat_last_success_timestamp_seconds", labels, last),
        _series("polaris_heartbeat_attempts_total", {**labels, "outcome": "accepted"}, accepted),
        _series("polaris_heartbeat_attempts_total", {**labels, "outcome": failed_as}, failed),
        _series("polaris_heartbeat_consecutive_failures", labels, streak),
        _series("polaris_agent_build_info", {**labels, "version": version, "python": "3.11.2"}, f"1x{STEPS}"),
        _series("process_resident_memory_bytes", labels, f"{memory}x{STEPS}"),
        _series("process_cpu_seconds_total", labels, f"0+0.15x{STEPS}"),
    ]
    for le, values in (("0.05", f"0x{STEPS}"), ("0.1", answered), ("+Inf", answered)):
        out.append(_series("polaris_heartbeat_latency_seconds_bucket", {**labels, "le": le}, values))
    for name in ("online", "retrying", "offline"):
        out.append(
            _series(
                "polaris_agent_state",
                {**labels, "polaris_agent_state": name},
                f"{int(name == state)}x{STEPS}",
            )
        )
    return out


# rig1 beats all day; rig2's beats stop being accepted at 12 h (server errors since); rig3 never reached
# the orchestrator (network errors) and runs an older build. Every answer took 50-100 ms.
SERIES = [
    *_agent(R1, last=f"0+15x{STEPS}", accepted=f"0+1x{STEPS}", failed=f"0x{STEPS}", failed_as="server_error",
            streak=f"0x{STEPS}", answered=f"0+1x{STEPS}", version="0.1.0", state="online", memory=50e6),
    *_agent(R2, last=f"0+15x{HALF} {HALF * 15}x{STEPS - HALF}", accepted=f"0+1x{HALF} {HALF}x{STEPS - HALF}",
            failed=f"0x{HALF} 1+1x{STEPS - HALF - 1}", failed_as="server_error",
            streak=f"0x{HALF} 1+1x{STEPS - HALF - 1}",
            answered=f"0+1x{STEPS}", version="0.1.0", state="retrying", memory=60e6),
    *_agent(R3, last=f"0x{STEPS}", accepted=f"0x{STEPS}", failed=f"0+1x{STEPS}", failed_as="network_error",
            streak=f"1+1x{STEPS}", answered=f"0x{STEPS}", version="0.0.9", state="offline", memory=40e6),
    # rig1 and rig2 were given one miner id (their fleet tags match); rig3 has its own.
    _series("polaris_agent_miner_info", {**R1, "miner_tag": TAG_SHARED}, f"1x{STEPS}"),
    _series("polaris_agent_miner_info", {**R2, "miner_tag": TAG_SHARED}, f"1x{STEPS}"),
    _series("polaris_agent_miner_info", {**R3, "miner_tag": "0f1e2d3c4b5a697887766554"}, f"1x{STEPS}"),
    _series("DCGM_FI_DEV_GPU_UTIL", {"Hostname": "rig1", "gpu": "0"}, f"80x{STEPS}"),
    _series("DCGM_FI_DEV_GPU_UTIL", {"Hostname": "rig1", "gpu": "1"}, f"60x{STEPS}"),
]  # fmt: skip

INSTANCES = {"rig1:9464": R1, "rig2:9464": R2, "rig3:9464": R3}
PER_SECOND = 1 / 15
# What each panel must show at the end of the day: {title: [[(labels, value), ...] per target]}.
EXPECTED = {
    "Miners online now": [[({}, 1)]],
    "Agents reporting": [[({}, 3)]],
    "Agents not on the newest version": [[({}, 1)]],
    "Agents failing now": [[({}, 2)]],
    "Uptime as the orchestrator counts it, last 24 h": [
        [({"instance": "rig1:9464"}, 1), ({"instance": "rig2:9464"}, 0.5), ({"instance": "rig3:9464"}, 0)]
    ],
    "Heartbeat latency (p50, p95), fleet": [[({}, 0.0975)], [({}, 0.075)]],
    "Failed attempts by reason": [
        [({"outcome": "server_error"}, PER_SECOND), ({"outcome": "network_error"}, PER_SECOND)]
    ],
    "Longest failure streaks": [[(R3, 1 + EVAL_STEP), (R2, 1 + EVAL_STEP - (HALF + 1))]],
    "Agents by state": [[({"polaris_agent_state": s}, 1) for s in ("online", "retrying", "offline")]],
    "Agents by version": [[({"version": "0.1.0"}, 2), ({"version": "0.0.9"}, 1)]],
    "GPU utilisation by node": [[({"Hostname": "rig1"}, 70)]],
    "Miner ids on more than one agent": [[({"miner_tag": TAG_SHARED}, 2)]],
    "Agent memory and CPU": [
        [
            ({"instance": "rig1:9464"}, 50e6),
            ({"instance": "rig2:9464"}, 60e6),
            ({"instance": "rig3:9464"}, 40e6),
        ],
        [({"instance": i}, 0.01) for i in INSTANCES],
    ],
}


def _promtool() -> str:
    for candidate in (Path(sys.executable).with_name("promtool"), shutil.which("promtool")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.skip("promtool is absent (bootstrap takes it from Debian's prometheus package)")


def _panels():
    return json.loads(DASHBOARD.read_text())["panels"]


def _expr(target: dict) -> str:
    expr = target["expr"]
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a dashboard variable the test does not know: {expr}"
    return expr


def _record(panel: dict, target: dict) -> str:
    return f"panel:{panel['id']}:{target['refId']}"


def test_no_panel_needs_a_label_carrying_the_miner_id():
    for panel in _panels():
        for target in panel["targets"]:
            labels = set(re.findall(r"\b([a-z_]+)\s*(?:=~|!=|=|!~)\s*\"", target["expr"]))
            labels |= {n for group in re.findall(r"by \(([^)]*)\)", target["expr"]) for n in group.split(",")}
            # miner_tag is the keyed tag (service/miner_tag.py), never the id: the one miner label allowed
            assert not [label for label in labels if "miner" in label and label != "miner_tag"], target[
                "expr"
            ]


def test_every_panel_has_an_expectation_and_a_datasource():
    assert {p["title"] for p in _panels()} == set(EXPECTED)
    for panel in _panels():
        assert len(panel["targets"]) == len(EXPECTED[panel["title"]]), panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"


def test_every_panel_query_evaluates_to_what_the_series_say(tmp_path):
    tool = _promtool()
    groups = [
        {
            "name": f"panel-{p['id']}",
            "rules": [{"record": _record(p, t), "expr": _expr(t)} for t in p["targets"]],
        }
        for p in _panels()
    ]
    (tmp_path / "panels.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    shutil.copy(ALERTS, tmp_path / "polaris-alerts.yml")
    check = subprocess.run(
        [tool, "check", "rules", str(tmp_path / "panels.yml")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tests = []
    for panel in _panels():
        for target, expected in zip(panel["targets"], EXPECTED[panel["title"]], strict=True):
            # Compared to 6 places: promtool compares floats exactly (0.075 comes out as 0.07500000000000001).
            samples = [
                {"labels": _labels("", labels), "value": round(value, 6)} for labels, value in expected
            ]
            expr = f"round({_record(panel, target)}, 0.000001)"
            tests.append({"expr": expr, "eval_time": EVAL, "exp_samples": samples})
    tests += _alert_expectations()
    spec = {
        "rule_files": ["panels.yml", "polaris-alerts.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "15s", "input_series": SERIES, "promql_expr_test": tests}],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = subprocess.run(
        [tool, "test", "rules", str(tmp_path / "test.yml")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]


def _labels(name: str, labels: dict) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _alert_expectations() -> list[dict]:
    """The alerts on the same day: rig2 silent for 12 h, rig3 never accepted, the fleet below 90% (one of
    three online), and no agent slow (p95 under 100 ms)."""

    def firing(name: str, extra: dict) -> dict:
        labels = {"alertname": name, "alertstate": "firing", **extra}
        return {"labels": _labels("ALERTS", labels), "value": 1}

    return [
        {
            "expr": 'ALERTS{alertname="PolarisNoAcceptedHeartbeat"}',
            "eval_time": EVAL,
            "exp_samples": [firing("PolarisNoAcceptedHeartbeat", {**R2, "severity": "critical"})],
        },
        {
            "expr": 'ALERTS{alertname="PolarisNeverAccepted"}',
            "eval_time": EVAL,
            "exp_samples": [firing("PolarisNeverAccepted", {**R3, "severity": "critical"})],
        },
        {
            "expr": 'ALERTS{alertname="PolarisFleetOnlineBelow90Percent"}',
            "eval_time": EVAL,
            "exp_samples": [firing("PolarisFleetOnlineBelow90Percent", {"severity": "warning"})],
        },
        {  # rig3 was never online, so the fleet is below 90% from the start: pending for 5 min, then firing
            "expr": 'ALERTS{alertname="PolarisFleetOnlineBelow90Percent"}',
            "eval_time": "4m",
            "exp_samples": [
                {
                    "labels": _labels(
                        "ALERTS",
                        {
                            "alertname": "PolarisFleetOnlineBelow90Percent",
                            "alertstate": "pending",
                            "severity": "warning",
                        },
                    ),
                    "value": 1,
                }
            ],
        },
        {"expr": 'ALERTS{alertname="PolarisHeartbeatSlow"}', "eval_time": EVAL, "exp_samples": []},
        {
            "expr": 'ALERTS{alertname="PolarisDuplicateMinerId"}',
            "eval_time": EVAL,
            "exp_samples": [
                firing("PolarisDuplicateMinerId", {"miner_tag": TAG_SHARED, "severity": "critical"})
            ],
        },
    ]
