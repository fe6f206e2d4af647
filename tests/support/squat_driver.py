"""Run as root inside a private /tmp (see users.in_private_tmp): one local user squats every place the
app's lock and socket could be, then the real app is started as another (non-root) user, handed arguments
and told to quit. Prints one JSON line of what happened; the test asserts on it.

The victim is an ordinary user too: root may unlink anybody's socket in /tmp, which is what once let a root
victim pass against code that a real user's launch failed on. It keeps only CAP_DAC_READ_SEARCH, so it can
read the checkout and interpreter wherever they live (CI's may be under /root) and write nothing not its own.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time

SQUATTER = r"""
import fcntl, os, socket, sys
paths = sys.argv[1:]
held = []
for d, name in zip(paths[0::2], paths[1::2]):
    os.makedirs(d, exist_ok=True)
    try:
        os.chmod(d, 0o777)
    except PermissionError:
        pass
    lock = open(os.path.join(d, name + ".lock"), "w")
    # QLockFile's format (pid, process name, host): the old code took a live holder's lock as "running"
    exe = os.path.basename(os.readlink("/proc/self/exe"))
    lock.write(f"{os.getpid()}\n{exe}\n{socket.gethostname()}\n"); lock.flush()
    fcntl.flock(lock, fcntl.LOCK_EX)
    for sock_name in (name + ".sock", name):
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(d, sock_name)); os.chmod(os.path.join(d, sock_name), 0o777); s.listen(8)
        held += [lock, s]
print("ready", flush=True)
import selectors
sel = selectors.DefaultSelector()
for s in held:
    if isinstance(s, socket.socket):
        sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.settimeout(2)
        try:
            data = c.recv(65536)
            c.sendall(b"ok\n")
        except OSError:
            data = b""
        print("GOT " + data.decode(errors="replace").strip(), flush=True)
        c.close()
"""


def as_user(user: str, python: str, repo: str) -> list[str]:
    """argv prefix: run as user, lent the right to read only where the checkout is closed to other uids
    (see the module docstring). no_setuid_fixup keeps that right for access(), which Qt's plugin lookup
    uses; the capability sets themselves hold dac_read_search and nothing else."""
    plain = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"]
    probe = [python, "-c", "import polaris_tray, PySide6"]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": repo}
    if subprocess.run([*plain, "--", *probe], cwd="/", env=env, capture_output=True).returncode == 0:
        return [*plain, "--"]
    caps = "+dac_read_search"
    lent = ["--securebits=+no_setuid_fixup", f"--inh-caps={caps}", f"--ambient-caps={caps}"]
    return [*plain, *lent, "--"]


def main() -> None:
    attacker, victim_user, repo, python = sys.argv[1:5]
    victim_pw = pwd.getpwnam(victim_user)
    name = "polaris-squat"
    squat_dir = f"/tmp/polaris-tray-{victim_pw.pw_uid}"
    # the new layout's directory, and where the old one put the lock and Qt's socket (/tmp/NAME)
    squatter = subprocess.Popen(
        ["runuser", "-u", attacker, "--", "python3", "-c", SQUATTER, squat_dir, name, "/tmp", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # runuser and its python child die together (killpg below)
    )
    result = {"squatter_ready": squatter.stdout.readline().strip() == "ready"}
    got: list[str] = []
    threading.Thread(target=lambda: got.extend(squatter.stdout), daemon=True).start()

    home = "/tmp/victim-home"
    os.makedirs(home, mode=0o700, exist_ok=True)
    os.chown(home, victim_pw.pw_uid, victim_pw.pw_gid)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "POLARIS_", "DISPLAY"))}
    base.update(HOME=home, PYTHONPATH=repo, POLARIS_TRAY_INSTANCE=name, QT_QPA_PLATFORM="offscreen")
    with_xdg = dict(base, XDG_RUNTIME_DIR="/tmp")  # a runtime dir that is not ours: must not matter
    app = [*as_user(victim_user, python, repo), python, "-m", "polaris_tray"]
    victim = subprocess.Popen(
        [*app, "--demo"], env=with_xdg, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(victim.stderr), daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and victim.poll() is None and not any("State" in x for x in lines):
        time.sleep(0.1)
    result["victim_started"] = victim.poll() is None
    second = subprocess.run(
        [*app, "--server-url", "http://127.0.0.1:9/api/v1"],
        env=base,
        capture_output=True,
        text=True,
        timeout=30,
    )
    result["second"] = [second.returncode, second.stderr.strip()]
    poke = subprocess.run(
        [
            "runuser",
            "-u",
            attacker,
            "--",
            "python3",
            "-c",
            "import socket,glob,sys\n"
            f"hits=glob.glob('{victim_pw.pw_dir}/.cache/polaris-tray-run/*')\n"
            "print('visible' if hits else 'hidden')",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    result["attacker_sees_socket"] = poke.stdout.strip() or poke.stderr.strip()[-200:]
    result["victim_alive_before_quit"] = victim.poll() is None
    quit_ = subprocess.run([*app, "--quit"], env=base, capture_output=True, text=True, timeout=30)
    result["quit"] = [quit_.returncode, quit_.stderr.strip()]
    try:
        result["victim_exit"] = victim.wait(15)
    except subprocess.TimeoutExpired:
        victim.kill()
        result["victim_exit"] = "still running"
    os.killpg(squatter.pid, signal.SIGKILL)
    squatter.wait(5)
    time.sleep(0.2)
    result["squatter_got"] = got
    result["victim_log_tail"] = lines[-5:]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
