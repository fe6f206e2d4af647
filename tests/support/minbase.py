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
