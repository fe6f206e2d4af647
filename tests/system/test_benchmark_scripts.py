"""The benchmark scripts still run against today's code: nothing in the suite imports them, so a renamed
method (the controller's quit() that moved to its Lifecycle) broke benchmarks/controls.py unseen."""

import math
import os
import subprocess
import sys

import pytest

from tests.support.app import ROOT


def test_the_controls_benchmark_runs_one_round_and_every_control_holds():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "controls.py"), "--rounds", "1", "--no-keyring"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {}
    for line in result.stdout.splitlines()[1:]:
        name, median, _max, _n = line.rsplit(maxsplit=3)
        rows[name.strip()] = float(median)
    assert len(rows) == 7, result.stdout
    assert not any(math.isnan(v) for v in rows.values()), result.stdout  # nan: the control never acted
    for counted in (
        "stop: requests in the next 1 s",
        "10 Send now in a hang: extra requests",
        "requests after Quitting",
    ):
        assert rows[counted] == 0, result.stdout


def test_the_thread_cpu_benchmark_counts_the_headless_beat_thread():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "thread_cpu.py"), "--mode", "headless", "--beats", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    head, _columns, *threads = result.stdout.splitlines()
    words = head.split()  # "headless: 2.352 ms of CPU per heartbeat over 20 heartbeats"
    per_beat, beats = float(words[1]), int(words[-2])
    assert 0 < per_beat < 100 and beats >= 20, result.stdout
    assert threads and sum(float(line.split()[-2]) for line in threads) == pytest.approx(per_beat, abs=0.01)
