"""The shipped systemd units and Prometheus files, checked by the tools that will read them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.app import ARTIFACTS, ROOT

UNITS = ROOT / "resources" / "systemd"
PROMETHEUS = ROOT / "resources" / "prometheus"
EXPOSURE_AIM = 2.0
LAST_SUCCESS = "polaris_heartbeat_last_success_timestamp_seconds"


def _analyze():
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is absent (apt install systemd): the units are not checked here")
    return tool


def _runnable_copy(unit: Path, tmp_path: Path, exec_path: str) -> Path:
    """verify insists the ExecStart binary exists: point it at this checkout's entry point."""
    agent = Path(sys.executable).with_name("polaris-tray")
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(exec_path, str(agent)))
    return copy


def _run(args, **env):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env={**_base_env(), **env})


def _base_env():
    import os

    return {k: v for k, v in os.environ.items() if k != "SYSTEMD_LOG_LEVEL"}


def test_system_unit_verifies_and_scores_ok(tmp_path):
    tool = _analyze()
    unit = _runnable_copy(UNITS / "polaris-tray.service", tmp_path, "/usr/local/bin/polaris-tray")
    verify = _run([tool, "verify", str(unit)])
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    security = _run([tool, "security", "--offline=true", str(unit)])
    match = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", security.stdout)
    assert match, security.stdout[-500:] + security.stderr
    score, verdict = float(match.group(1)), match.group(2)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "systemd-exposure.txt").write_text(security.stdout)
    print(f"systemd-analyze security: exposure {score} {verdict}")
    assert score <= EXPOSURE_AIM and verdict == "OK", security.stdout


def test_system_unit_has_what_a_supervised_service_needs():
    text = (UNITS / "polaris-tray.service").read_text()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",  # the CLI's EXIT_CONFIG: restarting cannot fix a configuration
        "WatchdogSec=30s",
        "DynamicUser=yes",
        "LoadCredential=polaris-miner-id:",
        "StateDirectory=polaris-tray",
        "LogsDirectory=polaris-tray",
        "ExecStart=/usr/local/bin/polaris-tray --headless",
        "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "LimitNOFILE=4096",  # scrapes take at most a quarter of the descriptors (scrape_server.py)
    ):
        assert line in text, line
    assert "LimitNOFILE=4096" in (UNITS / "user" / "polaris-tray.service").read_text()
    from polaris_tray.cli import EXIT_CONFIG

    assert EXIT_CONFIG == 2
    # The watchdog must outlast one attempt (cut at 10 s) plus the idle ping spacing (a quarter period).
    from polaris_tray.core.config.limits import REQUEST_DEADLINE_S

    assert REQUEST_DEADLINE_S + 30 / 4 < 30


def test_user_unit_verifies(tmp_path):
    tool = _analyze()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    unit = _runnable_copy(UNITS / "user" / "polaris-tray.service", tmp_path, "%h/.local/bin/polaris-tray")
    verify = _run([tool, "verify", "--user", str(unit)], XDG_RUNTIME_DIR=str(runtime))
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    security = _run([tool, "security", "--offline=true", "--user", str(unit)], XDG_RUNTIME_DIR=str(runtime))
    match = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", security.stdout)
    assert match
    print(f"user unit exposure {match.group(1)} {match.group(2)}")


def _promtool():
    for candidate in (Path(sys.executable).with_name("promtool"), shutil.which("promtool")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def test_alert_rule_fires_at_45_s_without_an_accepted_heartbeat(tmp_path):
    """promtool's rule unit test: accepted beats until t=60 s, then none; the alert fires 45 s later."""
    tool = _promtool()
    if not tool:
        pytest.skip("promtool is absent (bootstrap takes it from Debian's prometheus package)")
    assert _run([tool, "check", "config", str(PROMETHEUS / "polaris-scrape.yml")]).returncode == 0
    shutil.copy(PROMETHEUS / "polaris-alerts.yml", tmp_path)
    # last_success timestamps: 0 (none yet) at t=0, then t each 15 s scrape up to 60 s, then frozen at 60.
    series = "0 15 30 45 60 60 60 60 60 60 60 60"
    (tmp_path / "test.yml").write_text(
        yaml.safe_dump(
            {
                "rule_files": ["polaris-alerts.yml"],
                "evaluation_interval": "15s",
                "tests": [
                    {
                        "interval": "15s",
                        "input_series": [
                            {
                                "series": LAST_SUCCESS + '{instance="rig1:9464"}',
                                "values": series,
                            },
                            {
                                "series": 'polaris_heartbeat_consecutive_failures{instance="rig1:9464"}',
                                "values": "1 0 0 0 0 1 2 3 4 5 6 7",
                            },
                        ],
                        "alert_rule_test": [
                            {"eval_time": "90s", "alertname": "PolarisNoAcceptedHeartbeat", "exp_alerts": []},
                            {
                                "eval_time": "120s",
                                "alertname": "PolarisNoAcceptedHeartbeat",
                                "exp_alerts": [
                                    {
                                        "exp_labels": {"instance": "rig1:9464", "severity": "critical"},
                                        "exp_annotations": {
                                            "summary": "No accepted heartbeat from rig1:9464 for 45 s",
                                            "description": "The orchestrator counts this miner offline. "
                                            "Last accepted heartbeat 1m 0s ago; see "
                                            "polaris_heartbeat_attempts_total by outcome.",
                                        },
                                    }
                                ],
                            },
                        ],
                    }
                ],
            }
        )
    )
    result = _run([tool, "test", "rules", str(tmp_path / "test.yml")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_files_parse_without_promtool():
    """The same files read as YAML, where promtool cannot run: names match what the agent exports."""
    rules = yaml.safe_load((PROMETHEUS / "polaris-alerts.yml").read_text())
    exprs = " ".join(r["expr"] for g in rules["groups"] for r in g["rules"])
    assert "polaris_heartbeat_last_success_timestamp_seconds" in exprs and "> 45" in exprs
    scrape = yaml.safe_load((PROMETHEUS / "polaris-scrape.yml").read_text())
    assert scrape["rule_files"] == ["polaris-alerts.yml"]
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9464"]
