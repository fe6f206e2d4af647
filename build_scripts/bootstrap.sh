#!/usr/bin/env bash
# Installs what Polaris Tray needs on Debian/Ubuntu: system packages, then a virtualenv in .venv.
#
#   bootstrap.sh app    what the app needs to run (used by run-app.sh)
#   bootstrap.sh test   that, plus the test and build tools (used by run-tests.sh; the default)
#
# Fast when nothing changed: one dpkg query, and pip runs only when pyproject.toml, this script or the
# interpreter changed since the last install (a stamp in .venv). Not root: apt-get runs through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-test}"
case "$MODE" in app | test) ;; *) echo "usage: $0 [app|test]" >&2; exit 2 ;; esac

# The app: an interpreter with venv, Qt's xcb platform plugin and D-Bus library (a venv's PySide6 wheel
# brings Qt itself, not these), and a Secret Service for the keyring (see below).
APP_PACKAGES=(
  python3 python3-venv
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3
)
# The tests and the build: a real X server and tray host, a real Secret Service on a private bus, the
# tools the tests read the screen and validate files with, the icon theme installed icons resolve in,
# and what PyInstaller needs (objdump; the interpreter's shared library is added below, its name
# depends on the Python version).
TEST_PACKAGES=(
  gnome-keyring dbus-x11 libsecret-tools
  xvfb trayer imagemagick x11-utils xdotool desktop-file-utils appstream hicolor-icon-theme
  openbox  # a window manager that frames windows after they are shown, as a desktop's does
  binutils
  faketime  # clock steps in the history/uptime tests
  weston  # a headless Wayland compositor: the tray tests run the app on Wayland too
  # Server mode: systemd-analyze checks the units; gcc builds the stand-in NVML library.
  systemd gcc libc6-dev
  # Real networks: a private namespace with a black-holed IPv6 address (ip, nft), a private
  # copy of the system trust store (update-ca-certificates) and hashed CA directories (openssl rehash).
  iproute2 nftables ca-certificates openssl
  # Fleets: a Debian minbase root, the agent's OCI image built and unpacked without a registry.
  debootstrap buildah umoci
)

# The keyring needs a Secret Service. Desktops ship one (GNOME Keyring, KWallet); where none is
# installed, GNOME Keyring is (D-Bus starts it on first use).
if ! grep -qs '^Name=org.freedesktop.secrets' /usr/share/dbus-1/services/*.service; then
  APP_PACKAGES+=(gnome-keyring)
fi

UPDATED=""
install_missing() {
  local missing=() status
  status="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)"
  for pkg in "$@"; do
    grep -qxF "$pkg ii " <<<"$status" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  [ -n "$UPDATED" ] || $sudo apt-get update -q
  UPDATED=1
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

wanted=("${APP_PACKAGES[@]}")
[ "$MODE" = app ] || wanted+=("${TEST_PACKAGES[@]}")
install_missing "${wanted[@]}"

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

if [ "$MODE" = test ]; then
  # PyInstaller bundles the interpreter's shared library: libpython3.X from the distribution's package
  # when the venv's interpreter is the distribution's (3.11 on Debian 12, 3.10/3.12 on Ubuntu 22.04/24.04).
  libpython="$(.venv/bin/python -c 'import sys; v = sys.version_info
print(f"libpython{v[0]}.{v[1]}" if sys.base_prefix == "/usr" else "")')"
  [ -z "$libpython" ] || install_missing "$libpython"
fi

# pip only when something it depends on changed. The test extras include the app's, so a test install
# also satisfies the app.
stamp="$(cat pyproject.toml build_scripts/bootstrap.sh .venv/pyvenv.cfg | sha256sum | cut -c1-16)"
extras=".[test,build]"
[ "$MODE" = app ] && extras="."
current() { grep -qsx "$stamp" ".venv/.bootstrap-$1"; }
if ! current test && ! { [ "$MODE" = app ] && current app; }; then
  .venv/bin/python -m pip install -q --upgrade pip
  # setuptools says on every editable install that a folder named like the package may shadow it: here
  # that folder is the package, on purpose.
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install -q -e "$extras"
  echo "$stamp" >".venv/.bootstrap-$MODE"
fi

# promtool checks the shipped alert rules. Only the tool is taken from Debian's prometheus package:
# installing the package would also start a Prometheus server.
if [ "$MODE" = test ] && [ ! -x .venv/bin/promtool ] && command -v apt-get >/dev/null; then
  tmp="$(mktemp -d)"
  get() { (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1); }
  if { get || { [ "$(id -u)" -eq 0 ] && apt-get update -q >/dev/null && get; }; } && dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"; then
    cp "$tmp/x/usr/bin/promtool" .venv/bin/promtool
  else
    echo "promtool unavailable: the alert rules will be checked by the tests' own parser only"
  fi
  rm -rf "$tmp"
fi
