#!/usr/bin/env bash
# The headless agent as an OCI image, built with buildah from a Debian minbase root: no registry, no
# base image pulled. Debian's python3 runs the agent from /opt/polaris-tray/lib (pip --target with the
# server-mode dependencies only: no Qt, no keyring), as uid 65532 with a read-only root: everything it
# writes goes to the volume /var/lib/polaris-tray.
#
#   sudo deploy/container/build-image.sh [--minbase TAR] [--out DIR]
#
# --minbase reuses a tar from build_scripts/minbase.sh (else one is made: a few minutes). Writes
#   DIR/oci                         an OCI image layout, tag polaris-tray:VERSION (umoci, skopeo read it)
#   DIR/polaris-tray-VERSION.oci.tar the same as one archive: podman load -i ..., or ctr images import
#   DIR/size.txt                    its compressed and unpacked size
# DIR defaults to dist/container. pip uses this machine's own registry settings as they are.
set -euo pipefail
PROJECT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$PROJECT/deploy/container"
OUT="$PROJECT/dist/container" MINBASE=""
while (($#)); do
  case "$1" in
    --minbase) MINBASE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "build-image: run as root (the root's files belong to root and uid 65532)" >&2; exit 2; }
command -v buildah >/dev/null || { echo "build-image: apt-get install buildah" >&2; exit 2; }
UID_AGENT=65532
STATE=/var/lib/polaris-tray
VERSION="$(PYTHONPATH="$PROJECT" python3 -c 'import polaris_tray; print(polaris_tray.__version__)')"
WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/polaris-image.XXXXXX")"
B=(buildah --root "$WORK/storage" --runroot "$WORK/runroot" --storage-driver vfs)
cleanup() {
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$MINBASE" ]; then
  MINBASE="$WORK/minbase.tar"
  "$PROJECT/build_scripts/minbase.sh" "$MINBASE"
fi
ROOT="$WORK/root"
mkdir -p "$ROOT"
tar --numeric-owner -C "$ROOT" -xpf "$MINBASE"

# The agent: its server-mode dependencies, then the project itself without its dependency list (Qt).
pip() {  # quiet unless it fails; the scripts it makes point at this machine's interpreter: dropped
  python3 -m pip install --quiet --no-warn-script-location --root-user-action=ignore \
    --target "$ROOT/opt/polaris-tray/lib" "$@" >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; exit 1; }
  rm -rf "$ROOT/opt/polaris-tray/lib/bin"
}
pip -r "$HERE/requirements.txt"
pip --no-deps "$PROJECT"
install -m 0755 "$HERE/polaris-tray" "$ROOT/usr/local/bin/polaris-tray"

# The user (a fixed uid: the miner id file on the node is chowned to it), its volume, the mount point of
# the miner id, the host's /proc and /sys mount points.
echo "polaris:x:$UID_AGENT:$UID_AGENT:Polaris agent:$STATE:/usr/sbin/nologin" >>"$ROOT/etc/passwd"
echo "polaris:x:$UID_AGENT:" >>"$ROOT/etc/group"
echo "polaris:!:19000::::::" >>"$ROOT/etc/shadow"
install -d -m 0700 -o "$UID_AGENT" -g "$UID_AGENT" "$ROOT$STATE"
install -d -m 0755 "$ROOT/etc/polaris-tray" "$ROOT/host/proc" "$ROOT/host/sys"

# Smaller: no documentation, apt's lists and caches, or logs of the build.
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/* \
  "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/*
find "$ROOT/var/log" "$ROOT/tmp" -mindepth 1 -delete 2>/dev/null || true
# The check the image promises: it starts in this root (no Qt, no keyring needed to parse the arguments).
chroot "$ROOT" /usr/local/bin/polaris-tray --version >/dev/null

tar --numeric-owner -C "$ROOT" -cf "$WORK/rootfs.tar" .
ctr="$("${B[@]}" from scratch)"
"${B[@]}" add --quiet "$ctr" "$WORK/rootfs.tar" /
"${B[@]}" config \
  --user "$UID_AGENT:$UID_AGENT" \
  --workingdir "$STATE" \
  --env HOME="$STATE" \
  --env XDG_CONFIG_HOME="$STATE/config" \
  --env XDG_STATE_HOME="$STATE/state" \
  --env XDG_CACHE_HOME="$STATE/cache" \
  --env RUNTIME_DIRECTORY="$STATE/run" \
  --env PYTHONDONTWRITEBYTECODE=1 \
  --env PYTHONUNBUFFERED=1 \
  --env LANG=C.UTF-8 \
  --env NVIDIA_DRIVER_CAPABILITIES=utility \
  --entrypoint '["/usr/local/bin/polaris-tray", "--headless", "--miner-id-file", "/etc/polaris-tray/miner-id"]' \
  --cmd '["--metrics-listen", "0.0.0.0:9464", "--metrics-allow-remote"]' \
  --port 9464/tcp \
  --volume "$STATE" \
  --stop-signal SIGTERM \
  --label org.opencontainers.image.title=polaris-tray \
  --label org.opencontainers.image.version="$VERSION" \
  --label org.opencontainers.image.description="Polaris heartbeat agent, headless" \
  "$ctr"
rm -rf "$OUT/oci" "$OUT/polaris-tray-$VERSION.oci.tar"
mkdir -p "$OUT"
"${B[@]}" commit --quiet --format oci --disable-compression=false "$ctr" "oci:$OUT/oci:polaris-tray:$VERSION" >/dev/null
# An oci-archive is the layout as one tar: what podman load and ctr images import read.
tar -C "$OUT/oci" -cf "$OUT/polaris-tray-$VERSION.oci.tar" .
compressed="$(du -m "$OUT/polaris-tray-$VERSION.oci.tar" | cut -f1)"
unpacked="$(du -sm "$ROOT" | cut -f1)"
echo "polaris-tray:$VERSION: $compressed MB compressed (the archive), $unpacked MB unpacked" | tee "$OUT/size.txt"
