"""The private /tmp of the permission tests keeps a checkout that lives under /tmp.

A clone in /tmp failed two system tests with "exec: …/.venv/bin/python: not found": their helper mounted a
fresh tmpfs over /tmp and hid the checkout. This runs the helper's real mount plan with a "checkout" under
/tmp, so that mistake cannot come back unnoticed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

if sys.platform == "win32":  # the helpers below import pwd, which Windows' Python lacks
    pytest.skip("mount namespaces and tmpfs are Linux's", allow_module_level=True)

from tests.support.users import in_private_tmp, private_tmp_script

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs root and unshare for a private mount namespace",
)


@pytest.fixture
def checkout_in_tmp():
    """A stand-in checkout in the real /tmp (tmp_path may live elsewhere when --basetemp is set)."""
    root = Path(tempfile.mkdtemp(prefix="polaris-checkout-", dir="/tmp"))
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "marker").write_text("here\n")
    beside = Path(tempfile.mkstemp(prefix="polaris-beside-", dir="/tmp")[1])
    yield root, beside
    shutil.rmtree(root, ignore_errors=True)
    beside.unlink(missing_ok=True)


@needs_root
def test_a_checkout_under_tmp_stays_visible_and_the_rest_of_tmp_is_fresh(checkout_in_tmp):
    root, beside = checkout_in_tmp
    marker = root / ".venv" / "bin" / "marker"
    run = in_private_tmp(
        ["sh", "-c", 'cat "$1"; [ -e "$2" ] && echo leaked || echo fresh', "sh", str(marker), str(beside)],
        keep=[root],
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["here", "fresh"]


def test_the_plan_binds_only_paths_under_tmp_once():
    script = private_tmp_script(["/tmp/a/b", "/tmp/a", "/usr", "/tmp/c d"], stage="/mnt")
    binds = [line for line in script.splitlines() if line.startswith("mount --bind")]
    assert binds == ["mount --bind /tmp/a /mnt/a", "mount --bind '/tmp/c d' '/mnt/c d'"]
    assert script.splitlines()[-2:] == ["mount --move /mnt /tmp", 'exec "$@"']
    assert private_tmp_script(["/usr"]).startswith("mount -t tmpfs -o size=64m tmpfs /tmp")
