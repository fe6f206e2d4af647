"""PyInstaller's entry script: the same main() as the polaris-tray console script.

A windowed build (polaris-tray.exe on Windows) has no console: sys.stdout and sys.stderr are None, so a
command-line mode (--once, --autostart status, --set-miner-id, --help, ...) would print nothing at all.
There its output goes to console-output.txt in the log folder instead: opened only when something is
written, one dated block per run, at most OUTPUT_CAP bytes a run, started afresh past KEEP_BYTES. A file
rather than a message box, because a box would block an unattended run (a scheduled --once) until someone
clicks it. The console companion, polaris-tray-cli.exe, prints as usual (docs/releasing.md).
"""

from __future__ import annotations

import sys
import time

OUTPUT_NAME = "console-output.txt"
OUTPUT_CAP = 256 * 1024
KEEP_BYTES = 1024 * 1024
MODES = (
    "--headless",
    "--once",
    "--set-miner-id",
    "--forget-miner-id",
    "--autostart",
    "--quit",
    "--install-desktop",
    "--uninstall-desktop",
    "--doctor",
    "--version",
    "--help",
)


def command_line_mode(argv: list[str]) -> bool:
    """True for a run that answers in text; the tray itself (no mode) writes to its log file only."""
    return any(a == "-h" or a.split("=", 1)[0] in MODES for a in argv)


class LateFile:
    """A text stream for stdout and stderr that opens its file at the first write, so a run that prints
    nothing leaves nothing, and stops at OUTPUT_CAP so a long --headless cannot fill the disk."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, path_of) -> None:
        self._path_of, self._handle, self._written, self.path = path_of, None, 0, None

    def _open(self):
        from polaris_tray.core.storage import paths

        self.path = self._path_of()
        paths.ensure_private_dir(self.path.parent)
        try:
            if self.path.stat().st_size > KEEP_BYTES:
                self.path.unlink()  # the link itself, never what it points to
        except FileNotFoundError:
            pass
        handle = paths.open_private_append(self.path)
        handle.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n")
        return handle

    def write(self, text: str) -> int:
        if not text or self._written >= OUTPUT_CAP:
            return len(text)
        try:
            if self._handle is None:
                self._handle = self._open()
            room = OUTPUT_CAP - self._written
            self._handle.write(text[:room] if len(text) <= room else text[:room] + "\n(output cut here)\n")
            self._handle.flush()
        except OSError:
            self._written = OUTPUT_CAP  # nowhere to write: as quiet as before, but never an exception
            return len(text)
        self._written += len(text)
        return len(text)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("no console: the output goes to a file")


def capture_windowed_output(argv: list[str]) -> LateFile | None:
    """Gives a console-less command-line run its output file; None where there is a console (or the tray)."""
    if sys.stdout is not None or sys.stderr is not None or not command_line_mode(argv):
        return None

    def path_of():
        from polaris_tray.core.storage import paths

        return paths.log_dir() / OUTPUT_NAME

    sys.stdout = sys.stderr = stream = LateFile(path_of)
    return stream


def run(argv: list[str]) -> int:
    capture_windowed_output(argv)
    from polaris_tray.cli import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
