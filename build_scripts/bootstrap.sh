#!/usr/bin/env bash
# Installs everything Polaris Tray needs on Debian/Ubuntu: system packages, then a virtualenv in .venv.
# Idempotent: packages already present are not fetched again. Used by run-app.sh and run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt's xcb plugin, a real tray host and X server, a real Secret Service, and the tools the tests use.
PACKAGES=(
  python3 python3-venv python3-pip
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3
  gnome-keyring dbus-x11 libsecret-tools
  xvfb trayer imagemagick x11-utils xdotool desktop-file-utils appstream
  faketime  # clock steps in the history/uptime tests (issue 11)
  weston  # a headless Wayland compositor: the tray tests run the app on Wayland too
  # Server mode: systemd-analyze checks the units; gcc builds the stand-in NVML library.
  systemd gcc libc6-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,build]"

# promtool checks the shipped alert rules. Only the tool is taken from Debian's prometheus package:
# installing the package would also start a Prometheus server.
if [ ! -x .venv/bin/promtool ] && command -v apt-get >/dev/null; then
  tmp="$(mktemp -d)"
  get() { (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1); }
  if { get || { [ "$(id -u)" -eq 0 ] && apt-get update -q >/dev/null && get; }; } && dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"; then
    cp "$tmp/x/usr/bin/promtool" .venv/bin/promtool
  else
    echo "promtool unavailable: the alert rules will be checked by the tests' own parser only"
  fi
  rm -rf "$tmp"
fi
