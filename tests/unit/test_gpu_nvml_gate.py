"""nvidia-ml-py is imported only where NVIDIA's library could be loaded: its import costs ~3 MB."""

import subprocess
import sys
from pathlib import Path

from polaris_tray.core.heartbeat.gpu_nvml import LIBRARY, nvml_library_findable


def test_found_on_ld_library_path(tmp_path):
    (tmp_path / LIBRARY).write_bytes(b"")
    cache = tmp_path / "ld.so.cache"
    cache.write_bytes(b"glibc-ld.so.cache1.1 libc.so.6 /lib/x86_64-linux-gnu/libc.so.6")
    assert nvml_library_findable({"LD_LIBRARY_PATH": f"/nowhere::{tmp_path}"}, cache, "linux")
    assert not nvml_library_findable({"LD_LIBRARY_PATH": "/nowhere"}, cache, "linux")


def test_found_in_the_loader_cache(tmp_path):
    cache = tmp_path / "ld.so.cache"
    cache.write_bytes(b"\0libnvidia-ml.so.1\0/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1\0")
    assert nvml_library_findable({}, cache, "linux")


def test_in_doubt_the_import_decides(tmp_path):
    assert nvml_library_findable({}, tmp_path / "no-cache", "linux")  # unreadable cache
    assert nvml_library_findable({}, tmp_path / "no-cache", "win32")  # nvml.dll is found otherwise


def test_no_library_means_no_import(tmp_path):
    """The real opener in a clean interpreter: pynvml stays out of sys.modules."""
    code = (
        "import sys\n"
        "from polaris_tray.core.heartbeat import gpu_nvml\n"
        "from polaris_tray.core.heartbeat.gpu_common import OnceLogger\n"
        f"gpu_nvml.LD_CACHE = gpu_nvml.Path({str(tmp_path / 'empty')!r})\n"
        "gpu_nvml.DEFAULT_DIRS = ()\n"
        "print(gpu_nvml.open_nvml(OnceLogger()), 'pynvml' in sys.modules)\n"
    )
    (tmp_path / "empty").write_bytes(b"")
    root = str(Path(__file__).resolve().parents[2])
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": "", "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["None", "False"], out.stderr
