"""A second real local user for permission tests (useradd/userdel; skipped where that is impossible)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import uuid
from contextlib import contextmanager

import pytest


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


def in_private_tmp(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """Runs argv in its own mount namespace with a fresh tmpfs on /tmp: a /tmp no other test shares."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare for a private /tmp")
    script = 'mount -t tmpfs -o size=64m tmpfs /tmp && exec "$@"'
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        **kw,
    )
