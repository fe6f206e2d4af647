"""A Debian minbase root and the agent's OCI image, each built once per test run, and a way to run a
command in an unpacked root as a container runtime would (private mounts, a read-only root, the image's
user and environment) when no container runtime can start here.

Building needs root, debootstrap, buildah and umoci (build_scripts/bootstrap.sh installs them) and this
machine's Debian mirror and pip settings, as build_scripts/minbase.sh and deploy/container use them.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.app import ROOT

IMAGE_UID = 65532


def need_root_tools(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (debootstrap, chroot, mounts): run the suite as root, as CI does")
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} absent: build_scripts/bootstrap.sh test installs them")


@functools.cache
def work_dir() -> Path:
    """One folder per test run on disk (not a tmpfs /tmp), removed when the run ends."""
    path = Path(tempfile.mkdtemp(prefix="polaris-fleet-", dir="/var/tmp"))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def minbase_tar() -> Path:
    need_root_tools("debootstrap", "chroot")
    out = work_dir() / "bookworm-minbase.tar"
    result = subprocess.run(
        [str(ROOT / "build_scripts" / "minbase.sh"), str(out)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return out


@functools.cache
def image() -> tuple[Path, str]:
    """(the build's output folder, its size line)."""
    need_root_tools("buildah", "umoci")
    out = work_dir() / "image"
    result = subprocess.run(
        [
            str(ROOT / "deploy" / "container" / "build-image.sh"),
            "--minbase",
            str(minbase_tar()),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return out, (out / "size.txt").read_text().strip()


def unpack_root(tar: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    subprocess.run(["tar", "--numeric-owner", "-C", str(dest), "-xpf", str(tar)], check=True, timeout=300)
    return dest


def listing(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, mode, owner, size and mtime (symlinks not followed)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns)
    return out


def oci_config(layout: Path, tag: str) -> dict:
    """The image configuration (the Dockerfile's USER, ENV, ENTRYPOINT, STOPSIGNAL...) of a layout's tag."""
    blobs = layout / "blobs" / "sha256"
    index = json.loads((layout / "index.json").read_text())
    (entry,) = [m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag]
    manifest = json.loads((blobs / entry["digest"].split(":")[1]).read_text())
    return json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_text())


# Run in a private mount and PID namespace: the root bind-mounted on itself then made read-only, a
# private /dev with the five devices a runtime gives, /proc of the new PID namespace, the host's /proc
# and /sys read-only at /host (as a DaemonSet mounts them), the volumes, then chroot as the image's user.
_CONTAINER_SH = r"""
set -eu
R="$1" STATE="$2" SECRETS="$3"; shift 3
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$R/dev"
for d in null zero full random urandom; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mount --bind /proc "$R/host/proc" && mount -o remount,bind,ro "$R/host/proc"
mount --rbind /sys "$R/host/sys" && mount -o remount,bind,ro "$R/host/sys"
mount --bind "$STATE" "$R/var/lib/polaris-tray"
mount --bind "$SECRETS" "$R/etc/polaris-tray" && mount -o remount,bind,ro "$R/etc/polaris-tray"
mount -o remount,bind,ro "$R"
exec chroot --userspec="$USERSPEC" --groups= "$R" "$@"
"""


def container_argv(rootfs: Path, *, state: Path, secrets: Path, user: str, env: list[str], argv: list[str]):
    """unshare ... chroot: the command line that runs argv in rootfs like a container (see above)."""
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--",
        "env",
        f"USERSPEC={user}",
        "sh",
        "-c",
        _CONTAINER_SH,
        "container",
        str(rootfs),
        str(state),
        str(secrets),
        "/usr/bin/env",
        "-i",
        *env,
        *argv,
    ]


def carry_apt(root: Path) -> None:
    """This machine's apt sources and its own apt settings (not its packages'), name resolution and
    local CA certificates into a root, as build_scripts/fresh-check.sh carries them: apt works there."""
    for name in ("resolv.conf", "hosts"):
        shutil.copy(Path("/etc") / name, root / "etc" / name, follow_symlinks=True)
    for path in root.glob("etc/apt/sources.list.d/*"):
        path.unlink()
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    settings = [*Path("/etc/apt/apt.conf.d").glob("*"), *Path("/etc/apt/trusted.gpg.d").glob("*")]
    settings += [*Path("/etc/apt/keyrings").glob("*")] if Path("/etc/apt/keyrings").is_dir() else []
    for path in [*sources, *settings]:
        if not path.is_file():
            continue
        owned = subprocess.run(["dpkg", "-S", str(path)], capture_output=True).returncode == 0
        if path.parent.name == "apt.conf.d" and owned:
            continue
        (root / path.relative_to("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, root / path.relative_to("/"))
    local_ca = Path("/usr/local/share/ca-certificates")
    if local_ca.is_dir() and any(local_ca.iterdir()):
        shutil.copytree(local_ca, root / local_ca.relative_to("/"), dirs_exist_ok=True)
        run_in_root(root, ["update-ca-certificates"])
    (root / "usr/sbin/policy-rc.d").write_text("#!/bin/sh\nexit 101\n")  # nothing starts in the root
    (root / "usr/sbin/policy-rc.d").chmod(0o755)


# A system's mounts in a private mount namespace (gone with it): /proc, /dev, /sys read-only, a /tmp of
# its own, and folders of this machine bound read-only (BINDS: "src:dest" pairs).
_ROOT_SH = r"""
set -eu
R="$1"; shift
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys" && mount -o remount,bind,ro "$R/sys"
mount -t tmpfs tmpfs "$R/tmp"
for pair in $BINDS; do
  src="${pair%%:*}" dest="$R${pair#*:}"
  mkdir -p "$dest" && mount --bind "$src" "$dest" && mount -o remount,bind,ro "$dest"
done
exec chroot ${USERSPEC:+--userspec="$USERSPEC" --groups=} "$R" "$@"
"""

ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def root_argv(root: Path, argv: list[str], *, binds=(), user: str = "", env: dict | None = None) -> list[str]:
    """unshare ... chroot ROOT env -i ... ARGV: a command in the root with a clean environment."""
    clean = {"PATH": ROOT_PATH, "LANG": "C.UTF-8", "HOME": "/root", **(env or {})}
    return [
        "unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--",
        "env", f"BINDS={' '.join(f'{s}:{d}' for s, d in binds)}", f"USERSPEC={user}",
        "sh", "-c", _ROOT_SH, "root", str(root),
        "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in clean.items()), *argv,
    ]  # fmt: skip


def run_in_root(
    root: Path, argv: list[str], *, timeout: float = 600, **kwargs
) -> subprocess.CompletedProcess:
    result = subprocess.run(root_argv(root, argv, **kwargs), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result
