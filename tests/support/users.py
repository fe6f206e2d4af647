"""A second real local user for permission tests (useradd/userdel; skipped where that is impossible)."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable
from contextlib import contextmanager

import pytest

from tests.support.app import ROOT


@contextmanager
def local_user():
    """Yields (name, uid) of a fresh user with a home; removed afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root and useradd to create a second local user")
    name = f"pt{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    try:
        yield name, pwd.getpwnam(name).pw_uid
    finally:
        subprocess.run(["userdel", "-f", "-r", name], capture_output=True)


def private_tmp_script(keep: Iterable[str | os.PathLike[str]] = (), stage: str = "/mnt") -> str:
    """The shell script behind in_private_tmp: a fresh tmpfs on /tmp that still shows each `keep` path
    lying under /tmp (the checkout, its .venv, a test's own folder).

    Mounting the tmpfs straight over /tmp would hide a checkout cloned under /tmp, and with it the
    interpreter the script then execs. So the tmpfs is first mounted at `stage` (inside the private mount
    namespace only), each kept path is bind-mounted into it at its place, and the whole is moved onto /tmp.
    """
    tmp = os.path.realpath("/tmp")
    kept: list[str] = []
    for path in sorted({os.path.realpath(p) for p in keep}):
        under_tmp = os.path.commonpath([tmp, path]) == tmp and path != tmp
        if under_tmp and not any(os.path.commonpath([k, path]) == k for k in kept):
            kept.append(path)
    if not kept:
        return 'mount -t tmpfs -o size=64m tmpfs /tmp && exec "$@"'
    steps = ["set -e", f"mount -t tmpfs -o size=64m tmpfs {shlex.quote(stage)}"]
    for path in kept:
        inside = shlex.quote(stage + path[len(tmp) :])
        steps += [f"mkdir -p {inside}", f"mount --bind {shlex.quote(path)} {inside}"]
    steps += [f"mount --move {shlex.quote(stage)} /tmp", 'exec "$@"']
    return "\n".join(steps)


def in_private_tmp(argv: list[str], keep: Iterable[str | os.PathLike[str]] | None = None, **kw):
    """Runs argv in its own mount namespace with a fresh tmpfs on /tmp: a /tmp no other test shares.
    The checkout and the interpreter's prefix stay visible wherever they live (by default)."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare for a private /tmp")
    if keep is None:
        keep = [ROOT, sys.prefix, os.path.dirname(sys.executable)]
    script = private_tmp_script(keep)
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        **kw,
    )
