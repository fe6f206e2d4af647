"""The app as the tests run it: a real process, in an isolated home, with only the variables handed in."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = Path(os.environ.get("POLARIS_TEST_ARTIFACTS", ROOT / "test-artifacts"))


def app_env(
    home: Path, *, miner_id: str | None = "miner-abcdef123456", keyring: dict | None = None, **extra: str
) -> dict:
    """The environment of an app process: isolated home; a real keyring only when one is handed in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "DBUS_", "POLARIS_", "GNOME_KEYRING")) and k not in ("DISPLAY",)
    }
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    # The one-agent lock is per user (uid), not per HOME: each test home is its own "user" here.
    env["POLARIS_TRAY_INSTANCE"] = "polaris-test-" + hashlib.sha256(str(home).encode()).hexdigest()[:10]
    env.pop("PYTHON_KEYRING_BACKEND", None)
    if keyring:  # the D-Bus session of a real Secret Service; without it there is no keyring at all
        env.update(keyring)
    if miner_id:
        env["POLARIS_MINER_ID"] = miner_id
    env.update(extra)
    return env


def run_app(args: list[str], env: dict, *, timeout: float = 30, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "polaris_tray", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def start_app(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "polaris_tray", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_support_script(name: str, *args: str, env: dict, timeout: float = 60) -> str:
    """A helper program of tests/support/ in a process of its own (its own QApplication, screen and scale):
    its stdout, once it exited 0; its stderr is the failure's message."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "support" / name), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def files_containing(root: Path, needle: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle.encode() in path.read_bytes():
                    hits.append(path)
            except OSError:
                pass
    return hits
