"""Wall-clock steps (faketime, real processes) neither delete real history nor move the reported uptime.
FAKETIME_DONT_FAKE_MONOTONIC=1: a real clock step moves the wall clock only, never the
OS's boot-time counter, and that is what these runs stand for."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.outcome import Outcome, OutcomeKind
from tests.support.app import ROOT, app_env

pytestmark = pytest.mark.skipif(not shutil.which("faketime"), reason="needs apt faketime")

OK = Outcome(OutcomeKind.ACCEPTED, 200, 5.0)


def shifted(offset: str, code: str, env=None) -> dict:
    run = subprocess.run(
        ["faketime", offset, sys.executable, "-c", code],
        env=dict(env or app_env(ROOT), FAKETIME_DONT_FAKE_MONOTONIC="1"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def seed(path, count=100):
    store = HistoryStore(path)
    now = time.time()
    for i in range(count):
        store.record(OK, at=now - 3500 + i * 30)
    store.close()
    return now


STEP = (
    "import json, sys; from polaris_tray.core.storage.history import HistoryStore; "
    "from polaris_tray.core.values.outcome import Outcome, OutcomeKind; "
    "s = HistoryStore(sys.argv[1] if len(sys.argv) > 1 else {path!r}); "
    "s.record(Outcome(OutcomeKind.SERVER_ERROR, 500, 9.0, 'stepped')); "
    "top = s.recent(1)[0]; n = s.count(); s.close(); "
    "print(json.dumps({{'count': n, 'top': top.error}}))"
)


def test_a_start_30_days_ahead_keeps_real_history(tmp_path):
    path = tmp_path / "state" / "history.sqlite3"
    seed(path)
    ahead = shifted("+30 days", STEP.format(path=str(path)))
    assert ahead["count"] == 101  # before: the open's prune deleted all 100 real rows
    assert ahead["top"] == "stepped"  # its own newest row is on top
    back = HistoryStore(path)  # the clock is right again: the row from "the future" is not recent
    assert back.count() == 101
    assert back.recent(1)[0].error is None
    ratio, total = back.success_ratio(3600)
    assert (ratio, total) == (1.0, 100)  # the future failure is outside the last hour's ratio
    back.close()


def test_a_run_a_year_behind_sees_its_own_rows_first_and_deletes_nothing(tmp_path):
    path = tmp_path / "state" / "history.sqlite3"
    seed(path)
    behind = shifted("-365 days", STEP.format(path=str(path)))
    assert behind["count"] == 101
    assert behind["top"] == "stepped"  # before: rows from "the future" (the real ones) stayed on top


def test_uptime_comes_from_the_boot_counter_not_the_wall_clock():
    code = (
        "import json; from polaris_tray.core.heartbeat.metrics import SystemSampler; "
        "from polaris_tray.core.values.payload import to_json; "
        "m, info, r = SystemSampler('127.0.0.1').sample(1.0); print(json.dumps(to_json(info)))"
    )
    with open("/proc/uptime") as handle:
        real = float(handle.read().split()[0])
    for offset in ("+30 days", "-365 days"):
        info = shifted(offset, code)
        print(f"\n{offset}: reported uptime {info['uptime']:.0f} s, /proc/uptime {real:.0f} s")
        assert abs(info["uptime"] - real) < 600  # before: +30 days → 2.6 million s too many; -1 year → 0
