"""The system unit's own settings applied by hand, where systemd is not PID 1 (see test-rig.md): the
agent runs as an unprivileged uid of its own (as DynamicUser= would make), with the unit's Environment=,
a credential directory like LoadCredential='s, the watchdog from WatchdogSec=, stderr as the journal and
a NOTIFY_SOCKET the test binds. What systemd itself does (sandbox, restarts) is not exercised here."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.app import ROOT, app_env, files_containing
from tests.support.notify_socket import NotifySocket

UNIT = ROOT / "resources" / "systemd" / "polaris-tray.service"
DYNAMIC_UID = 61234
MINER = "miner-from-credential-77"
SETPRIV = ("setpriv", f"--reuid={DYNAMIC_UID}", f"--regid={DYNAMIC_UID}", "--clear-groups")
# Where the checkout cannot be read by other uids (CI's may sit under /root, 0700), the agent's uid is lent
# the right to read and search, nothing more: an installed service has its own readable copy.
READ_ONLY_CAPS = ("--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search")


def _service_section() -> list[tuple[str, str]]:
    pairs, section = [], None
    for line in UNIT.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            pairs.append((key, value))
    return pairs


def _seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)(s|min)?", text)
    assert match, text
    return int(match.group(1)) * (60 if match.group(2) == "min" else 1)


@pytest.mark.skipif(os.geteuid() != 0, reason="running the agent as a uid of its own needs root")
def test_agent_runs_as_the_unit_would_run_it(orchestrator):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is absent")
    setpriv = None
    for candidate in (SETPRIV, (*SETPRIV, *READ_ONLY_CAPS)):
        reach = subprocess.run(
            [*candidate, sys.executable, "-c", "import polaris_tray, prometheus_client"],
            cwd="/",
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
            capture_output=True,
            timeout=30,
        )
        if reach.returncode == 0:
            setpriv = candidate
            break
    assert setpriv is not None, reach.stderr  # as root, the lent capability always reaches the checkout
    unit = dict(_service_section())
    root = Path(tempfile.mkdtemp(prefix="polaris-unit-"))
    try:
        os.chmod(root, 0o711)  # noqa: S103 - the agent's uid must reach its directories
        dirs = {"%S": root / "var-lib", "%E": root / "etc", "%t": root / "run"}
        for d in dirs.values():
            (d / "polaris-tray").mkdir(parents=True)
            os.chown(d / "polaris-tray", DYNAMIC_UID, DYNAMIC_UID)
            os.chmod(d, 0o755)  # noqa: S103
        creds = root / "credentials"
        creds.mkdir()
        name, source = unit["LoadCredential"].split(":", 1)
        assert source == "/etc/polaris-tray/miner-id"
        (creds / name).write_text(MINER)
        os.chown(creds / name, DYNAMIC_UID, DYNAMIC_UID)
        os.chmod(creds / name, 0o400)
        os.chown(creds, DYNAMIC_UID, DYNAMIC_UID)
        os.chmod(creds, 0o500)
        sock = NotifySocket(root / "notify")
        os.chmod(root / "notify", 0o777)  # noqa: S103 - as systemd's own notify socket

        env = app_env(Path("/nonexistent"), miner_id=None)
        for item in unit["Environment"].split():
            key, value = item.split("=", 1)
            for spec, path in dirs.items():
                value = value.replace(spec, str(path))
            env[key] = value
        env.update(
            CREDENTIALS_DIRECTORY=str(creds),
            NOTIFY_SOCKET=sock.path,
            WATCHDOG_USEC=str(_seconds(unit["WatchdogSec"]) * 1_000_000),
        )
        exec_start = unit["ExecStart"].split()
        assert exec_start[0] == "/usr/local/bin/polaris-tray"
        args = [*exec_start[1:], "--server-url", orchestrator.url, "--interval", "0.2"]
        stderr_path = root / "journal"
        with open(stderr_path, "w") as journal:
            st = os.fstat(journal.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
            proc = subprocess.Popen(
                [*setpriv, sys.executable, "-m", "polaris_tray", *args],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=journal,
                umask=0o077,
            )
            try:
                ready = sock.wait_for(lambda m: m.get("READY") == "1", timeout=20)
                assert ready is not None, stderr_path.read_text()
                assert ready[1]["STATUS"] == "Online"
                assert sock.wait_for(lambda m: m.get("WATCHDOG") == "1") is not None
                assert orchestrator.wait_for(3, timeout=10)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
        log = stderr_path.read_text()
        assert proc.returncode == 0, log
        assert {b["metrics"]["miner_id"] for b in orchestrator.bodies()} == {MINER}
        assert "(from credential)" in log and MINER not in log
        assert all(line[:3] in ("<6>", "<4>", "<7>") for line in log.splitlines()), log
        assert sock.wait_for(lambda m: m.get("STOPPING") == "1", timeout=5) is not None
        assert files_containing(root / "var-lib", MINER) == []
        assert not list((root / "var-lib").rglob("*.log")), "the journal keeps the log"
        sock.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
