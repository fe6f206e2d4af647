"""The log file that comes back, directories that are always 0700, and the local CLI edges: --set-miner-id
input, autostart Exec escaping."""

from __future__ import annotations

import logging
import shutil
import stat
import subprocess
import sys

import pytest

from polaris_tray.core.platform.autostart.base import AutostartError
from polaris_tray.core.platform.autostart.xdg import XdgAutostart, exec_program, render_entry
from polaris_tray.core.storage.logs import PrivateRotatingFileHandler
from tests.support.app import ROOT, app_env, run_app


def test_a_deleted_log_directory_comes_back_0700_within_one_check(tmp_path):
    clock = [0.0]
    path = tmp_path / "state" / "log" / "polaris-tray.log"
    handler = PrivateRotatingFileHandler(
        path, maxBytes=10_000, backupCount=1, encoding="utf-8", now=lambda: clock[0]
    )
    logger = logging.getLogger("test-log-comes-back")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("first")
        assert "first" in path.read_text()
        shutil.rmtree(tmp_path / "state")
        logger.warning("lost")  # the check is at most once a minute: this goes to the deleted file
        clock[0] += 61
        logger.warning("back")
        assert path.read_text().strip().endswith("back")
        for directory in (path.parent, path.parent.parent):
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_an_unwritable_log_dir_is_explained_not_none(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = (
        "from pathlib import Path\n"
        "from polaris_tray.core.storage.logs import setup_logging, log_description\n"
        f"p = setup_logging('INFO', Path({str(blocker / 'log')!r}), console=False); print(log_description(p))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert "not being written" in out.stdout and "None" not in out.stdout, out


def test_open_log_folder_recreates_0700(tmp_path):
    from polaris_tray.core.storage.paths import ensure_private_dir

    made = ensure_private_dir(tmp_path / "a" / "b" / "log")  # what open_folder now calls
    for directory in (made, made.parent, made.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_set_miner_id_reads_a_few_kb_only(home):
    result = run_app(["--set-miner-id"], app_env(home, miner_id=None), stdin="x" * 5_000_000)
    assert result.returncode == 2 and "longer than 4096 bytes" in result.stderr


def test_set_miner_id_rejects_several_lines(home):
    result = run_app(["--set-miner-id"], app_env(home, miner_id=None), stdin="miner-one\nminer-two\n")
    assert result.returncode == 2 and "2 lines" in result.stderr


def test_set_miner_id_end_of_input_is_a_clean_exit_1(home):
    result = run_app(["--set-miner-id"], app_env(home, miner_id=None), stdin="")
    assert (
        result.returncode == 1 and "Traceback" not in result.stderr and "nothing was stored" in result.stderr
    )


def test_set_miner_id_ctrl_c_at_the_prompt_exits_130(home):
    """A real terminal (a pty), so the hidden prompt is used; Ctrl-C is the terminal's interrupt character."""
    pty = pytest.importorskip("pty")
    import os
    import select

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - child
        env = app_env(home, miner_id=None)
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "polaris_tray", "--set-miner-id"], env)  # noqa: S606
    out = b""
    while b"Miner id" not in out:
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, out
        out += os.read(fd, 1024)
    os.write(fd, b"\x03")
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        try:
            chunk = os.read(fd, 1024) if ready else b""
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 130, out
    assert b"Traceback" not in out and b"cancelled" in out


def test_nfkc_normalises_the_id():
    from polaris_tray.core.config.miner_id import validate_miner_id

    assert validate_miner_id("ｍｉｎｅｒ－１２３") == "miner-123"  # full-width forms
    assert validate_miner_id("cafe\u0301") == "caf\u00e9"  # decomposed → composed


@pytest.mark.parametrize("path", ["/opt/a b/x", '/o$p/a"b\\c`d%e', "/plain", "/it's"])
def test_exec_paths_round_trip_and_validate(tmp_path, path):
    text = render_entry([path])
    assert exec_program(text) == path
    entry = tmp_path / "e.desktop"
    entry.write_text(text)
    if shutil.which("desktop-file-validate"):
        assert subprocess.run(["desktop-file-validate", str(entry)], capture_output=True).returncode == 0


def test_a_program_path_with_a_newline_is_refused(home):
    with pytest.raises(AutostartError, match="line break"):
        render_entry(["/opt/x\nHidden=true"])
    entry = XdgAutostart(environ={"HOME": str(home), "APPIMAGE": "/opt/Polaris\nExec=/bin/evil.AppImage"})
    with pytest.raises(AutostartError):
        entry.enable()
    assert not entry.path.exists()
    result = run_app(["--autostart", "on"], app_env(home, APPIMAGE="/tmp/x\nHidden=true"))
    assert result.returncode == 1 and "line break" in result.stderr
