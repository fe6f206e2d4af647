"""Builds the stand-in libnvidia-ml.so.1 from fake_nvml.c with gcc, so the real nvidia-ml-py code runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).with_name("fake_nvml.c")


def build_fake_nvml(directory: Path) -> Path | None:
    """The directory to put on LD_LIBRARY_PATH; None where there is no C compiler."""
    if not shutil.which("gcc"):
        return None
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "libnvidia-ml.so.1"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", str(target), str(SOURCE)],
        check=True,
        capture_output=True,
        text=True,
    )
    return directory
