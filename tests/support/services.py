"""Real services for the tests, started and stopped by fixtures: Secret Service, X server, tray host."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise RuntimeError(
            f"{tool} is missing: run ./build_scripts/bootstrap.sh (it installs the test services)"
        )
    return path


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


class SecretService:
    """A private D-Bus session bus with an unlocked gnome-keyring-daemon (secrets component)."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="polaris-keyring-home-"))
        self.env: dict[str, str] = {}
        self._pids: list[int] = []

    def start(self) -> SecretService:
        base = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
        }
        out = subprocess.run(
            [_need("dbus-launch"), "--sh-syntax"],
            env=base,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout
        for line in out.splitlines():
            if "=" in line:
                key, _, value = line.rstrip(";").partition("=")
                value = value.strip("'\"")
                if key == "DBUS_SESSION_BUS_ADDRESS":
                    self.env[key] = value
                elif key == "DBUS_SESSION_BUS_PID":
                    self._pids.append(int(value))
        unlocked = subprocess.run(
            [_need("gnome-keyring-daemon"), "--unlock", "--components=secrets"],
            input="polaris-test-password",
            env={**base, **self.env},
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        for line in unlocked.splitlines():
            key, _, value = line.partition("=")
            if key in ("GNOME_KEYRING_CONTROL",):
                self.env[key] = value
        # The daemon forks away from us: its PID comes from our own bus, which also says it is ready.
        self._pids.append(self._owner_pid("org.freedesktop.secrets"))
        return self

    def _owner_pid(self, name: str, timeout: float = 15) -> int:
        """The PID of the process owning `name` on this private bus (not a machine-wide name search)."""
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import DBusErrorResponse, unwrap_msg

        with open_dbus_connection(self.env["DBUS_SESSION_BUS_ADDRESS"]) as conn:
            pids: list[int] = []

            def owned() -> bool:
                try:
                    reply = conn.send_and_get_reply(message_bus.GetConnectionUnixProcessID(name))
                    pids[:] = unwrap_msg(reply)
                except DBusErrorResponse:  # not owned yet
                    return False
                return True

            _wait(owned, timeout, f"{name} on the private bus")
        return pids[0]

    def stop(self) -> None:
        for pid in self._pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)


def _display_free(number: int) -> bool:
    """No socket or lock file, and no abstract socket (an X server in another mount namespace, such as a
    chroot, shows only there) for this display number."""
    if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
        return False
    try:
        sockets = Path("/proc/net/unix").read_text()
    except OSError:
        return True
    return f"@/tmp/.X11-unix/X{number}\n" not in sockets


class XDisplay:
    """Xvfb on a free display number, optionally with trayer as the system tray host."""

    def __init__(self, with_tray: bool = True, size: str = "1024x768x24") -> None:
        self.with_tray = with_tray
        self.size = size
        self.display = ""
        self._procs: list[subprocess.Popen] = []

    def start(self) -> XDisplay:
        try:
            self._start_xvfb()
            if self.with_tray:
                self.start_tray()
        except BaseException:
            self.stop()  # nothing of a half-started display is left running
            raise
        return self

    def _start_xvfb(self) -> None:
        number = next(n for n in range(90, 200) if _display_free(n))
        self.display = f":{number}"
        xvfb = subprocess.Popen(
            [_need("Xvfb"), self.display, "-screen", "0", self.size, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._procs.append(xvfb)
        _wait(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 15, "Xvfb")

    def start_tray(self) -> None:
        self._start_client(
            [
                _need("trayer"),
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "32",
                "--transparent",
                "false",
                "--tint",
                "0x202020",
                "--SetDockType",
                "true",
            ],
            self._has_tray_manager,
        )

    def start_window_manager(self) -> None:
        """openbox: a window manager that frames a window after it is shown (a title bar, borders), as a
        desktop's does; without one a window's frame is its client area."""
        self._start_client([_need("openbox"), "--sm-disable"], self._has_window_manager)

    def _start_client(self, argv: list[str], ready) -> None:
        """A program on this display, stopped with it; returns once ready() holds. One that exits before
        it is ready is started once more, and what it wrote to stderr is in the error if that fails too
        (trayer once did not come up within 15 s of a new Xvfb on a busy machine; its stderr was lost)."""
        name = Path(argv[0]).name
        for attempt in (1, 2):
            with tempfile.TemporaryFile() as log:
                proc = subprocess.Popen(
                    argv, env={**os.environ, "DISPLAY": self.display}, stdout=subprocess.DEVNULL, stderr=log
                )
                self._procs.append(proc)
                _wait(lambda p=proc: p.poll() is not None or ready(), 15, name)
                if proc.poll() is None:
                    return
                log.seek(0)
                said = log.read().decode(errors="replace")[-2000:]
            if attempt == 2:
                raise RuntimeError(f"{name} exited ({proc.returncode}) before it was ready: {said}")

    def _has_window_manager(self) -> bool:
        out = subprocess.run(
            ["xprop", "-root", "-display", self.display, "_NET_SUPPORTING_WM_CHECK"],
            capture_output=True,
            text=True,
        )
        return "window id" in out.stdout

    def _has_tray_manager(self) -> bool:
        out = subprocess.run(["xprop", "-root", "-display", self.display], capture_output=True, text=True)
        if out.returncode != 0:
            return False
        probe = subprocess.run(
            ["xdotool", "search", "--classname", "trayer"],
            env={**os.environ, "DISPLAY": self.display},
            capture_output=True,
            text=True,
        )
        return bool(probe.stdout.strip())

    def screenshot(self, path: Path) -> Path:
        subprocess.run(
            ["import", "-display", self.display, "-window", "root", str(path)], check=True, timeout=20
        )
        return path

    def stop(self) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
