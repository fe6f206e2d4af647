"""GPU readings through the real nvidia-ml-py code, against a stand-in libnvidia-ml.so.1 built here from
tests/support/fake_nvml.c and found through LD_LIBRARY_PATH, as the driver's library would be."""

from __future__ import annotations

import signal

import pytest

from polaris_tray.demo.schema import validate_heartbeat
from tests.support.app import app_env, start_app
from tests.support.fake_nvml import build_fake_nvml

GPUS = "Fake H100,30,81559,1024,55,300500;Fake H100,90,81559,40000,83,-1"  # power -1: not supported


@pytest.fixture(scope="module")
def nvml_dir(tmp_path_factory):
    built = build_fake_nvml(tmp_path_factory.mktemp("nvml"))
    if built is None:
        pytest.skip("no gcc: the stand-in NVML library cannot be built (apt install gcc)")
    return built


def _run(home, orchestrator, beats: int, **env) -> str:
    proc = start_app(
        ["--headless", "--server-url", orchestrator.url, "--interval", "0.2"], app_env(home, **env)
    )
    try:
        assert orchestrator.wait_for(beats, timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    return err


def test_stand_in_nvml_fills_gpu_fields(home, tmp_path, orchestrator, nvml_dir):
    calls = tmp_path / "calls"
    err = _run(
        home,
        orchestrator,
        4,
        LD_LIBRARY_PATH=str(nvml_dir),
        FAKE_NVML_GPUS=GPUS,
        FAKE_NVML_CALLS=str(calls),
    )
    bodies = [b for b in orchestrator.bodies() if b["status"] == "online"]
    assert len(bodies) >= 4
    for body in bodies:
        assert validate_heartbeat(body) == []
        metrics = body["metrics"]["metrics"]
        assert metrics["gpu_usage"] == 60.0  # the mean of 30 and 90
        assert metrics["temperature"] >= 83.0  # the hotter of the CPU package and the GPU cores
        gpus = body["metrics"]["resource_usage"]["gpus"]
        assert gpus[0] == {
            "index": 0,
            "name": "Fake H100",
            "memory_total_mib": 81559,
            "memory_used_mib": 1024,
            "utilization_percent": 30.0,
            "temperature_c": 55.0,
            "power_w": 300.5,
        }
        assert "power_w" not in gpus[1] and gpus[1]["temperature_c"] == 83.0
    assert calls.read_text() == "init\n", "NVML must be initialised once, not per beat"
    assert "NVML: 2 NVIDIA GPU(s): Fake H100, Fake H100" in err
    assert "WARNING" not in err


def test_without_nvml_no_gpu_field_and_no_error(home, orchestrator):
    err = _run(home, orchestrator, 3, LD_LIBRARY_PATH="")
    for body in orchestrator.bodies():
        assert validate_heartbeat(body) == []
        assert "gpu_usage" not in body["metrics"]["metrics"]
        assert "gpus" not in body["metrics"]["resource_usage"]
    assert "WARNING" not in err and "ERROR" not in err and "NVML" not in err


def test_nvml_with_no_gpu_adds_nothing(home, orchestrator, nvml_dir):
    err = _run(home, orchestrator, 3, LD_LIBRARY_PATH=str(nvml_dir), FAKE_NVML_GPUS="")
    assert all("gpus" not in b["metrics"]["resource_usage"] for b in orchestrator.bodies())
    assert "WARNING" not in err


def test_nvml_failing_mid_run_drops_the_fields_and_logs_once(home, orchestrator, nvml_dir):
    """Two GPUs, utilisation readable twice: the first beat has GPU fields, every later one none."""
    err = _run(
        home, orchestrator, 6, LD_LIBRARY_PATH=str(nvml_dir), FAKE_NVML_GPUS=GPUS, FAKE_NVML_FAIL_AFTER="2"
    )
    bodies = [b for b in orchestrator.bodies() if b["status"] == "online"]
    assert all(validate_heartbeat(b) == [] for b in bodies)
    with_gpu = ["gpu_usage" in b["metrics"]["metrics"] for b in bodies]
    assert with_gpu[0] and not any(with_gpu[1:]), with_gpu
    assert err.count("GPU is lost") == 1, err
    assert len(bodies) >= 5, "the beat went on regardless"


_MDWE_EXEC = """
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, REFUSE_EXEC_GAIN
    sys.exit(77)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def test_nvml_works_with_memory_deny_write_execute(home, orchestrator, nvml_dir):
    """The unit sets MemoryDenyWriteExecute=yes; ctypes (nvidia-ml-py) must live with it. Played by the
    kernel's own PR_SET_MDWE (Linux >= 6.3), inherited by the agent across exec."""
    import subprocess
    import sys

    from tests.support.app import ROOT

    env = app_env(home, LD_LIBRARY_PATH=str(nvml_dir), FAKE_NVML_GPUS=GPUS)
    args = ["-m", "polaris_tray", "--headless", "--server-url", orchestrator.url, "--interval", "0.2"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _MDWE_EXEC, *args], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    try:
        if not orchestrator.wait_for(2, timeout=20):
            proc.wait(5)
            if proc.returncode == 77:
                pytest.skip("this kernel has no PR_SET_MDWE (Linux < 6.3)")
            pytest.fail(proc.stderr.read())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    assert all(b["metrics"]["metrics"].get("gpu_usage") == 60.0 for b in orchestrator.bodies()[:2]), err


def test_nvml_opened_once_however_many_senders(tmp_path, nvml_dir):
    """The cycle rebuilds its BeatSender on a settings change: NVML still starts once per process."""
    import os
    import subprocess
    import sys

    from tests.support.app import ROOT

    calls = tmp_path / "calls"
    code = (
        "from polaris_tray.core.heartbeat.sender import BeatSender\n"
        "usages = []\n"
        "for _ in range(3):\n"
        "    sender = BeatSender('http://127.0.0.1:9/api/v1', 'm')\n"
        "    usages.append(sender._sampler.sample(0.0)[0].gpu_usage)\n"
        "    sender.close()\n"
        "print(usages)\n"
    )
    env = dict(os.environ, LD_LIBRARY_PATH=str(nvml_dir), FAKE_NVML_GPUS=GPUS, FAKE_NVML_CALLS=str(calls))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "[60.0, 60.0, 60.0]", out.stderr
    assert calls.read_text() == "init\n"
