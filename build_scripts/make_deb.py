"""Packs the one-folder build (dist/polaris-tray) into a Debian package with dpkg-deb.

    python build_scripts/make_deb.py [FOLDER]    # build.py calls it on Debian/Ubuntu

Layout: the folder as /opt/polaris-tray, /usr/bin/polaris-tray linking to it, and in /usr/share the menu
entry, the hicolor icons and the AppStream metainfo. Depends lists the packages of the shared libraries
the build needs and does not carry (found with ldd and dpkg -S on the build machine, as dpkg-shlibdeps
would), so the .deb suits the distribution release it was built on. Prints the path of the .deb.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
NAME = "polaris-tray"


def elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def outside_libraries(folder: Path) -> set[str]:
    """Paths on this machine of the libraries the build's ELF files need but the build does not carry."""
    carried = {p.name for p in folder.rglob("*")}
    paths = set()
    for elf in elf_files(folder):
        out = subprocess.run(["ldd", str(elf)], check=False, capture_output=True, text=True).stdout
        for name, path in re.findall(r"^\s*(\S+) => (/\S+)", out, re.M):
            if name not in carried:
                paths.add(path)
    return paths


def owning_package(path: str) -> str | None:
    """The package that owns a library file (usr-merged systems list it under /lib or /usr/lib)."""
    real = str(Path(path).resolve())
    candidates = {path, real}
    for p in list(candidates):
        candidates.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for candidate in sorted(candidates):
        out = subprocess.run(["dpkg", "-S", candidate], check=False, capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def depends(folder: Path) -> list[str]:
    return sorted({pkg for path in outside_libraries(folder) if (pkg := owning_package(path))})


def version() -> str:
    text = (ROOT / "polaris_tray" / "__init__.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def control(folder: Path, arch: str, size_kb: int) -> str:
    return "\n".join(
        [
            f"Package: {NAME}",
            f"Version: {version()}",
            f"Architecture: {arch}",
            "Maintainer: Polaris Tray developers <polaris-tray@localhost>",
            f"Installed-Size: {size_kb}",
            f"Depends: {', '.join(depends(folder))}",
            "Recommends: hicolor-icon-theme",
            "Suggests: gnome-keyring",
            "Section: net",
            "Priority: optional",
            "Homepage: https://github.com/bigideaafrica/polariscloud",
            "Description: keeps a compute provider's machine visible to the Polaris orchestrator",
            " Sends the heartbeat the Polaris orchestrator counts uptime by, from the system tray",
            " (a coloured icon shows the state) or headless on servers. The miner id stays in the",
            " system keyring.",
            "",
        ]
    )


def stage(folder: Path, pkg: Path) -> None:
    shutil.copytree(folder, pkg / "opt" / NAME, symlinks=True)
    (pkg / "usr" / "bin").mkdir(parents=True)
    # relative, so the package also works unpacked under another root (dpkg --root, the tests)
    (pkg / "usr" / "bin" / NAME).symlink_to(f"../../opt/{NAME}/{NAME}")
    share = pkg / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(RESOURCES / "io.polaris.tray.desktop", share / "applications")
    (share / "metainfo").mkdir()
    shutil.copy2(RESOURCES / "io.polaris.tray.metainfo.xml", share / "metainfo")
    for icon in (RESOURCES / "icons").glob(f"{NAME}-*.png"):
        size = icon.stem.rsplit("-", 1)[1]
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy2(icon, target / f"{NAME}.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(RESOURCES / "icons" / f"{NAME}.svg", scalable / f"{NAME}.svg")


def build_deb(folder: Path, out_dir: Path) -> Path:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "pkg"
        stage(folder, pkg)
        size_kb = sum(p.stat().st_size for p in pkg.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
        (pkg / "DEBIAN").mkdir()
        (pkg / "DEBIAN" / "control").write_text(control(folder, arch, size_kb))
        for path in pkg.rglob("*"):  # dpkg-deb wants sane modes whatever the umask was
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o111 else 0o644)
        deb = out_dir / f"{NAME}_{version()}_{arch}.deb"
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(pkg), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


if __name__ == "__main__":
    app_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / NAME
    print(build_deb(app_dir, app_dir.parent))
