#!/usr/bin/env bash
# Installs everything, then runs the whole test suite: lint, unit, process, keyring, GUI and build tests.
# The tests start their own services (Xvfb + trayer, a D-Bus session with gnome-keyring) as fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
./build_scripts/bootstrap.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy polaris_tray  # settings in pyproject.toml [tool.mypy]; any error fails the run
.venv/bin/mypy --platform win32 polaris_tray  # the Windows build: guards mypy reads (sys.platform), no ignores
.venv/bin/mypy --platform darwin polaris_tray  # the macOS build
.venv/bin/mypy --strict polaris_tray/core  # the Qt-free core: every function typed, generics spelled out, no untyped calls
.venv/bin/lint-imports  # the layers and "no cycle anywhere": pyproject.toml [tool.importlinter]
export POLARIS_TEST_ARTIFACTS="${POLARIS_TEST_ARTIFACTS:-$PWD/test-artifacts}"
mkdir -p "$POLARIS_TEST_ARTIFACTS"
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
