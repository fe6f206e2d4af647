#!/usr/bin/env bash
# Installs everything, then starts Polaris Tray with the arguments given (e.g. --demo, --headless).
set -euo pipefail
cd "$(dirname "$0")/.."
./build_scripts/bootstrap.sh
exec .venv/bin/polaris-tray "$@"
