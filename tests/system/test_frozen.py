"""The double-clickable build: built for real by PyInstaller, then used the way a miner would."""

import json
import re
import subprocess
import time
import uuid

import pytest

from tests.support.app import ARTIFACTS, app_env
from tests.support.screen import tray_colour

pytestmark = pytest.mark.frozen
MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"


def frozen_env(home, **kw):
    env = app_env(home, **kw)
    env.pop("PYTHONPATH", None)  # the frozen app must carry everything itself
    return env


def test_build_is_small_and_reports_its_parts(frozen_app):
    report = (ARTIFACTS / "build-report.txt").read_text()
    size = re.search(r"distributable: (\S+)\s+([\d.]+) MB", report)
    assert size and float(size.group(2)) <= 55.0, report
    assert "ICU" in report and "Qt libraries" in report
    internal = frozen_app.parent / "_internal"
    names = {p.name for p in internal.rglob("*")}
    assert "libqgtk3.so" not in names and not any(n.startswith("libgtk-3") for n in names)
    assert not any(n.endswith(".qm") for n in names)  # no translations
    assert "libqxcb.so" in names


def test_frozen_once_against_a_loopback_orchestrator(frozen_app, home, orchestrator):
    result = subprocess.run(
        [str(frozen_app), "--once", "--server-url", orchestrator.url],
        env=frozen_env(home, miner_id=MINER),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outcome"] == "accepted"
    from polaris_tray.demo.schema import validate_heartbeat

    assert validate_heartbeat(orchestrator.bodies()[0]) == []


@pytest.mark.keyring
def test_frozen_finds_the_real_keyring(frozen_app, home, orchestrator, keyring_env):
    env = frozen_env(home, miner_id=None, keyring=keyring_env)
    stored = subprocess.run(
        [str(frozen_app), "--set-miner-id"],
        input=MINER + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stored.returncode == 0, stored.stderr
    sent = subprocess.run(
        [str(frozen_app), "--once", "--server-url", orchestrator.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER


@pytest.mark.gui
def test_frozen_tray_goes_green_and_quits(frozen_app, home, orchestrator, x_display):
    env = frozen_env(
        home,
        miner_id=MINER,
        DISPLAY=x_display.display,
        QT_QPA_PLATFORM="xcb",
        POLARIS_TRAY_INSTANCE=f"polaris-frozen-{uuid.uuid4().hex[:8]}",
    )
    proc = subprocess.Popen(
        [str(frozen_app), "--server-url", orchestrator.url, "--interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tray_colour(x_display.display) != "green":
            time.sleep(0.1)
        assert tray_colour(x_display.display) == "green"
        subprocess.run(
            [
                "import",
                "-display",
                x_display.display,
                "-window",
                "root",
                "-crop",
                "260x40+764+0",
                str(ARTIFACTS / "frozen-tray.png"),
            ],
            timeout=20,
        )
        started = time.monotonic()
        quitter = subprocess.run(
            [str(frozen_app), "--quit"], env=env, capture_output=True, text=True, timeout=30
        )
        assert quitter.returncode == 0, quitter.stderr
        proc.wait(5)
        assert time.monotonic() - started < 2.5
    finally:
        if proc.poll() is None:
            proc.kill()
        _out, err = proc.communicate()
    assert proc.returncode == 0
    assert "QThread" not in err and "Traceback" not in err
