"""--host-root: a containerised agent reads the node's figures from the host's /proc mounted at /host."""

from __future__ import annotations

import psutil
import pytest

from polaris_tray.service.host_root import use_host_root
from tests.support.app import app_env, run_app

MEMINFO = """MemTotal:       65536000 kB
MemFree:        1000000 kB
MemAvailable:   32768000 kB
Buffers:          10000 kB
Cached:          200000 kB
Shmem:             1000 kB
Active:          100000 kB
Inactive:        100000 kB
SReclaimable:     10000 kB
Slab:             20000 kB
"""


@pytest.fixture
def restore_procfs():
    saved = psutil.PROCFS_PATH
    yield
    psutil.PROCFS_PATH = saved


def test_psutil_reads_the_mounted_proc(tmp_path, restore_procfs):
    """A stand-in host /proc (a node's memory cannot be produced here): psutil's figures come from it."""
    proc = tmp_path / "host" / "proc"
    proc.mkdir(parents=True)
    (proc / "meminfo").write_text(MEMINFO)
    (proc / "stat").write_text("cpu  1 0 1 100 0 0 0 0 0 0\nbtime 1700000000\n")
    assert use_host_root(str(tmp_path / "host")) is None
    assert str(proc) == psutil.PROCFS_PATH
    assert psutil.virtual_memory().total == 65536000 * 1024
    assert psutil.boot_time() == 1700000000


def test_a_root_without_proc_changes_nothing(tmp_path, restore_procfs):
    before = psutil.PROCFS_PATH
    problem = use_host_root(str(tmp_path))
    assert problem and "is not the host's /proc" in problem
    assert before == psutil.PROCFS_PATH


def test_headless_refuses_a_bad_host_root_with_exit_2(home, tmp_path):
    result = run_app(["--headless", "--host-root", str(tmp_path / "nothing")], app_env(home))
    assert result.returncode == 2
    assert "is not the host's /proc" in result.stderr
