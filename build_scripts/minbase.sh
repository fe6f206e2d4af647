#!/usr/bin/env bash
# A Debian minbase root as a tar, from this machine's own Debian mirror (its apt sources name it; no host
# is named here): debootstrap --variant=minbase with python3 and ca-certificates, nothing else.
#
#   sudo build_scripts/minbase.sh OUT.tar [SUITE]
#
# Used by the container image (deploy/container/build-image.sh) and the fleet tests. Needs root and
# debootstrap; takes a few minutes. The tar keeps numeric owners; OUT.tar appears only when complete.
set -euo pipefail
OUT="${1:?usage: minbase.sh OUT.tar [SUITE]}"
SUITE="${2:-bookworm}"
[ "$(id -u)" -eq 0 ] || { echo "minbase: run as root (debootstrap)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "minbase: apt-get install debootstrap" >&2; exit 2; }

mirror() {  # the machine's own Debian mirror for $SUITE, from its apt sources (deb822 or one-line)
  local uri
  uri="$(awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
    { u = ""; ok = 0; for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/) { split($i, a, " "); u = a[2] }
        if ($i ~ /^Suites:/ && (" " $i " ") ~ (" " s " ")) ok = 1 }
      if (ok && u != "") { print u; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  [ -n "$uri" ] || uri="$(awk -v s="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i == s) {
      for (j = 2; j < i; j++) if ($j !~ /^\[/ && $j !~ /\]$/) { print $j; exit } } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)"
  [ -n "$uri" ] || { echo "minbase: no $SUITE mirror in this machine's apt sources" >&2; exit 1; }
  echo "$uri"
}

BUILD="$(mktemp -d "${TMPDIR:-/var/tmp}/minbase.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT
debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$BUILD/root" "$(mirror)" \
  >"$BUILD/debootstrap.log" 2>&1 || { tail -30 "$BUILD/debootstrap.log" >&2; exit 1; }
if grep -q " $BUILD/root[/ ]" /proc/mounts; then echo "minbase: debootstrap left a mount" >&2; exit 1; fi
tar --numeric-owner -C "$BUILD/root" -cf "$OUT.part" . && mv "$OUT.part" "$OUT"
