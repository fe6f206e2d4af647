#!/usr/bin/env bash
# Installs what the app needs (only when something changed), then starts Polaris Tray with the
# arguments given (e.g. --demo, --headless).
set -euo pipefail
cd "$(dirname "$0")/.."
./build_scripts/bootstrap.sh app
exec .venv/bin/polaris-tray "$@"
