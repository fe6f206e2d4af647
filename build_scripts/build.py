"""Builds Polaris Tray with PyInstaller into dist/, packs it, and reports what each part weighs.

    python build_scripts/build.py             # needs the `build` extra: pip install -e ".[build]"
    python build_scripts/build.py --onefile   # the one-file variant, to compare (not what we ship)
    python build_scripts/build.py --no-pack   # build only: CI signs the executables, then
    python build_scripts/build.py --pack      # packs what dist/ holds (the signed files)

On Debian and Ubuntu it also packs a .deb (make_deb.py). The last line printed is the path of the executable
(the archive's with --pack).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
APP_DIR = DIST / "polaris-tray"


def _mb(n: int) -> str:
    return f"{n / 2**20:6.1f} MB"


def report(folder: Path) -> None:
    groups: dict[str, int] = defaultdict(int)
    total = 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        size = path.stat().st_size
        total += size
        name = path.name
        if "icu" in name:
            groups["ICU (Qt Core needs it)"] += size
        elif name.startswith("libQt6") or "/plugins/" in str(path):
            groups["Qt libraries and plugins"] += size
        elif "PySide6" in str(path) or "shiboken6" in str(path):
            groups["PySide6 bindings"] += size
        elif name.startswith("libpython") or name == "base_library.zip" or "lib-dynload" in str(path):
            groups["Python runtime"] += size
        elif "cryptography" in str(path) or "libssl" in name or "libcrypto" in name:
            groups["TLS and crypto (requests, secretstorage)"] += size
        else:
            groups["other"] += size
    print(f"unpacked: {_mb(total)}")
    for name, size in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {_mb(size)}  {name}")


def archive_name() -> str:
    if sys.platform == "win32":
        return "polaris-tray-windows.zip"
    if sys.platform == "darwin":  # one build per architecture (see .github/workflows/ci.yml)
        return f"polaris-tray-macos-{platform.machine()}.tar.gz"
    return "polaris-tray-linux.tar.gz"


def pack(folder: Path) -> Path:
    archive = DIST / archive_name()
    if sys.platform == "win32":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for path in folder.rglob("*"):
                zf.write(path, path.relative_to(DIST))
    else:
        with tarfile.open(archive, "w:gz", compresslevel=9) as tf:
            tf.add(folder, arcname=folder.name)
    return archive


def build(onefile: bool) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "0", "POLARIS_ONEFILE": "1" if onefile else "0"}
    shutil.rmtree(DIST, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(ROOT / "build"),
            str(ROOT / "build_scripts" / "polaris-tray.spec"),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )


def pack_all() -> Path:
    """The distributable archive, and on Debian and Ubuntu the .deb, from what dist/ holds."""
    archive = pack(DIST / "Polaris Tray.app" if sys.platform == "darwin" else APP_DIR)
    print(f"distributable: {archive.name} {_mb(archive.stat().st_size)}")
    if sys.platform.startswith("linux") and shutil.which("dpkg-deb"):  # Debian and Ubuntu
        from make_deb import build_deb

        deb = build_deb(APP_DIR, DIST)
        print(f"debian package: {deb.name} {_mb(deb.stat().st_size)}")
    return archive


def main() -> int:
    args = sys.argv[1:]
    if "--pack" in args:
        print(pack_all())
        return 0
    onefile = "--onefile" in args
    build(onefile)
    if onefile:
        exe = DIST / ("polaris-tray.exe" if sys.platform == "win32" else "polaris-tray")
        print(f"one-file executable: {_mb(exe.stat().st_size)}")
        print(exe)
        return 0
    report(APP_DIR)
    if "--no-pack" not in args:
        pack_all()
    exe = APP_DIR / ("polaris-tray.exe" if sys.platform == "win32" else "polaris-tray")
    print(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
