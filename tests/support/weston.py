"""A headless Wayland compositor (weston) for the tests, or a clear reason why there is none."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class Weston:
    def __init__(self, name: str = "wl-polaris-test") -> None:
        self.runtime = Path(tempfile.mkdtemp(prefix="polaris-wl-"))
        self.runtime.chmod(0o700)
        self.socket = f"{name}-{os.getpid()}"
        self._proc: subprocess.Popen | None = None
        self.log = self.runtime / "weston.log"

    def start(self) -> Weston:
        """Raises RuntimeError with the reason when weston is missing or cannot start."""
        weston = shutil.which("weston")
        if not weston:
            raise RuntimeError("weston is not installed (apt install weston; bootstrap.sh lists it)")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "XDG_RUNTIME_DIR": str(self.runtime)}
        self._proc = subprocess.Popen(
            [weston, "--backend=headless-backend.so", f"--socket={self.socket}", "--idle-time=0"],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (self.runtime / self.socket).exists():
                return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"weston did not start: {self.log.read_text(errors='replace')[-500:]}")

    @property
    def env(self) -> dict[str, str]:
        return {
            "QT_QPA_PLATFORM": "wayland",
            "WAYLAND_DISPLAY": self.socket,
            "XDG_RUNTIME_DIR": str(self.runtime),
        }

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        shutil.rmtree(self.runtime, ignore_errors=True)
