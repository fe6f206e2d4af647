"""The import contracts (pyproject.toml [tool.importlinter]) hold, and each breaks when its rule is broken.

lint-imports runs on a copy of the package; a copy with one planted import (a lazy one inside a function
counts too), or one new core package nobody placed, must fail exactly the contract that guards it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import ROOT

CONTRACTS = ("shells", "core", "qt-free", "acyclic")

# (contract, file under polaris_tray/, text appended to it)
PLANTS = {
    "values imports config (upward in the core)": (
        "core",
        "core/values/redact.py",
        "\n\ndef _planted() -> None:\n    from polaris_tray.core.config import limits  # noqa\n",
    ),
    "storage imports status (upward in the core)": (
        "core",
        "core/storage/journal.py",
        "\nfrom polaris_tray.core.status import state  # noqa\n",
    ),
    "a core package no layer names": ("core", "core/extra/__init__.py", '"""Placed nowhere."""\n'),
    "a top-level module no layer names": ("shells", "extra.py", '"""Placed nowhere."""\n'),
    "service imports the demo (independent siblings)": (
        "shells",
        "service/hooks.py",
        "\n\ndef _planted() -> None:\n    import polaris_tray.demo.server  # noqa\n",
    ),
    "the core imports the GUI (upward)": (
        "shells",
        "core/status/snapshot.py",
        "\n\ndef _planted() -> None:\n    import polaris_tray.gui.app  # noqa\n",
    ),
    "the core imports Qt": (
        "qt-free",
        "core/storage/paths.py",
        "\n\ndef _planted() -> None:\n    from PySide6 import QtCore  # noqa\n",
    ),
    "a cycle inside one package (state <-> snapshot)": (
        "acyclic",
        "core/status/state.py",
        "\nfrom polaris_tray.core.status import snapshot  # noqa\n",
    ),
}


def lint_imports(where: Path, contract: str) -> subprocess.CompletedProcess:
    venv = str(Path(sys.executable).parent)  # the venv's own copy, else one on PATH
    found = shutil.which("lint-imports", path=venv) or shutil.which("lint-imports")
    assert found, "lint-imports is missing: install the test extra (pip install -e '.[test]')"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the copy in `where`, not ROOT
    return subprocess.run(
        [found, "--no-cache", "--no-logo", "--contract", contract],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_package(into: Path) -> Path:
    no_bytecode = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "polaris_tray", into / "polaris_tray", ignore=no_bytecode)
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_package_keeps_the_contract(tmp_path, contract):
    result = lint_imports(copy_of_the_package(tmp_path), contract)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("plant", PLANTS)
def test_a_planted_import_breaks_its_contract(tmp_path, plant):
    contract, relative, text = PLANTS[plant]
    where = copy_of_the_package(tmp_path)
    target = where / "polaris_tray" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as file:
        file.write(text)
    result = lint_imports(where, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
