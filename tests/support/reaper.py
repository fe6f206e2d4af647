"""Runs a command as a child subreaper and reports what it left running.

A daemon a program spawns (e.g. an autolaunched dbus-daemon) double-forks away from it; as a subreaper
(Linux prctl PR_SET_CHILD_SUBREAPER) this process inherits such orphans, so it can name exactly the
processes that command started, by PID, with no machine-wide name search. Prints one JSON line:
{"returncode": N, "left": [[pid, "name"], ...]} after the command exits, then ends what was left.

    python -m tests.support.reaper -- COMMAND ARGS...
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys

import psutil

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    proc = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    returncode = proc.wait()
    me = psutil.Process()
    left = [c for c in me.children(recursive=True) if c.status() != psutil.STATUS_ZOMBIE]
    print(json.dumps({"returncode": returncode, "left": [[c.pid, c.name()] for c in left]}), flush=True)
    for child in left:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(left, timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
