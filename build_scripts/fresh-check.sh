#!/usr/bin/env bash
# The README's two commands on a truly fresh Debian 12: a minbase root from debootstrap with only python3
# and ca-certificates added, the project copied in, then
#   app phase:  the README's run command in --demo mode (as a non-root user with sudo), until the log says
#               online; --quit; nothing of it may stay running; then a second launch, timed;
#   test phase: the README's test command (as root, like CI), in a second fresh root;
#   deb phase:  the .deb that build made, installed with apt into a third, run in the tray, purged.
# Each phase reports the Debian packages (and the virtualenv) its command installed.
#
#   sudo build_scripts/fresh-check.sh [--only app|test] [--app-user NAME|root] [--test-user NAME|root]
#                                     [--rev GIT_REV] [--rebuild] [--keep]
#
# Needs root, debootstrap and Xvfb on this machine, and takes many minutes. The machine's own package
# registry setup is carried in (apt's sources and settings, pip's settings and the local folders and CA
# certificates they name, the PIP_* variables, resolv.conf); no host is named here. Logs stay in
# $FRESH_WORK (default /var/tmp/polaris-fresh-check), with the minbase root cached (--rebuild makes it
# again); each phase's root is deleted after it passed (--keep keeps them, about 3 GB).
set -euo pipefail
PROJECT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${FRESH_WORK:-/var/tmp/polaris-fresh-check}"
SUITE=bookworm
APP_CMD="./build_scripts/run-app.sh --demo"
TEST_CMD="./build_scripts/run-tests.sh"
ONLY="" APP_USER=polaris TEST_USER=root REV="" REBUILD="" KEEP=""
while (($#)); do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --app-user) APP_USER="$2"; shift 2 ;;
    --test-user) TEST_USER="$2"; shift 2 ;;
    --rev) REV="$2"; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    --keep) KEEP=1; shift ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
for cmd in "$APP_CMD" "$TEST_CMD"; do  # the commands checked are the ones the README gives
  grep -qxF "$cmd" "$PROJECT/README.md" || { echo "fresh-check: README no longer shows: $cmd" >&2; exit 2; }
done
command -v debootstrap >/dev/null || apt-get install -y -q --no-install-recommends debootstrap
mkdir -p "$WORK"
say() { echo "fresh-check: $*" | tee -a "$WORK/summary.txt"; }
in_chroot() {  # nothing of this shell's environment (HOME, TMPDIR, ...) leaks into the root
  local root="$1"
  shift
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 "$@"
}
remove_root() {  # never while anything is mounted in it: rm would reach into this machine's folders
  if grep -q " $1[/ ]" /proc/mounts; then echo "fresh-check: something is still mounted in $1" >&2; exit 1; fi
  rm -rf "$1"
}

# --- the minbase root, built once (build_scripts/minbase.sh: debootstrap from this machine's mirror) ----
PRISTINE="$WORK/$SUITE-minbase.tar"
if [ -n "$REBUILD" ] || [ ! -s "$PRISTINE" ]; then
  "$PROJECT/build_scripts/minbase.sh" "$PRISTINE" "$SUITE"
fi

# --- carrying in this machine's registry setup ------------------------------------------------------
PIP_VARS=()
while IFS= read -r line; do PIP_VARS+=("$line"); done < <(env | grep '^PIP_' || true)
BINDS=()  # local folders pip's settings name, bind-mounted read-only at the same path

carry_path() {  # a file pip's settings name is copied; a folder is bind-mounted (a local index's parent)
  local root="$1" path="${2#file://}"
  [[ "$path" == /* && -e "$path" ]] || return 0
  path="${path%/}"
  if [ -d "$path" ]; then
    [ "$(basename "$path")" = simple ] && path="$(dirname "$path")"  # its pages link to ../../files
    BINDS+=("$path")
  elif [ ! -e "$root$path" ]; then
    mkdir -p "$root$(dirname "$path")" && cp -L "$path" "$root$path"
  fi
}

carry_in() {
  local root="$1" f line value
  cp -L /etc/resolv.conf /etc/hosts "$root/etc/"
  rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
  [ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$root/etc/apt/"
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    /etc/apt/trusted.gpg.d/* /etc/apt/keyrings/* /etc/apt/auth.conf.d/* /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    # apt.conf.d: only this machine's own settings, not what its installed packages put there
    [[ "$f" != /etc/apt/apt.conf.d/* ]] || ! dpkg -S "$f" >/dev/null 2>&1 || continue
    mkdir -p "$root$(dirname "$f")" && cp "$f" "$root$f"
  done
  if [ -d /usr/local/share/ca-certificates ]; then
    cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
    in_chroot "$root" update-ca-certificates >/dev/null
  fi
  BINDS=()
  # pip's settings as this machine resolves them (all its files merged), as one file every user reads
  python3 -m pip config list 2>/dev/null | grep -v '^:' | sort >"$WORK/pip-config.txt" || true
  awk -F= '{ key = $1; value = substr($0, length(key) + 2); gsub(/^'\''|'\''$/, "", value)
      section = key; sub(/\..*/, "", section); sub(/^[^.]*\./, "", key)
      if (section != last) { print "[" section "]"; last = section }
      print key " = " value }' "$WORK/pip-config.txt" >"$root/etc/pip.conf"
  while IFS= read -r line; do
    value="${line#*=}"
    for f in ${value//\'/}; do carry_path "$root" "$f"; done
  done <"$WORK/pip-config.txt"
  for line in "${PIP_VARS[@]}"; do
    for f in ${line#*=}; do carry_path "$root" "$f"; done
  done
}

MOUNTS=()
mount_all() {
  local root="$1" dir
  # the root a mount point of its own, as a real system's is: the tests' `unshare --propagation private`
  # (a private tmpfs, a second user's /tmp) needs one
  mount --bind "$root" "$root" && MOUNTS+=("$root")
  mount -t proc proc "$root/proc" && MOUNTS+=("$root/proc")
  for dir in /sys /dev /dev/pts /dev/shm; do
    mkdir -p "$root$dir" && mount --bind "$dir" "$root$dir" && MOUNTS+=("$root$dir")
  done
  mount -t tmpfs tmpfs "$root/tmp" && MOUNTS+=("$root/tmp")
  # X sockets shared with this machine: display numbers in use anywhere are seen as taken
  mkdir -p /tmp/.X11-unix "$root/tmp/.X11-unix"
  mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix" && MOUNTS+=("$root/tmp/.X11-unix")
  for dir in "${BINDS[@]}"; do
    mkdir -p "$root$dir" && mount --bind -o ro "$dir" "$root$dir" && MOUNTS+=("$root$dir")
  done
}

in_root_pids() {  # processes running inside the root (found by their root directory, not by name)
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
  done
  return 0
}

cleanup() {
  local i pids
  if [ -n "${ROOT:-}" ]; then
    pids="$(in_root_pids "$ROOT")"
    [ -z "$pids" ] || kill $pids 2>/dev/null || true
  fi
  [ -z "${XVFB_PID:-}" ] || kill "$XVFB_PID" 2>/dev/null || true
  XVFB_PID=""
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" || umount -l "${MOUNTS[i]}"; done
  MOUNTS=()
}
trap cleanup EXIT

done_with_root() { [ -n "$KEEP" ] || remove_root "$ROOT"; }  # a root that passed

# --- one fresh root per phase ----------------------------------------------------------------------
new_root() {  # ROOT: a fresh copy of the minbase root, carried in, mounted, the project copied in
  local user="$1" home
  ROOT="$WORK/root-$2" WHERE=""
  remove_root "$ROOT" && mkdir -p "$ROOT"
  tar --numeric-owner -C "$ROOT" -xpf "$PRISTINE"
  carry_in "$ROOT"
  mount_all "$ROOT"
  home=/root
  if [ "$user" != root ]; then  # a stock image's non-root user who may use sudo
    run_in root "apt-get update -q >/dev/null && apt-get install -y -q sudo >/dev/null"
    in_chroot "$ROOT" useradd -m -s /bin/bash "$user"
    echo "$user ALL=(ALL:ALL) NOPASSWD: ALL" >"$ROOT/etc/sudoers.d/$user"
    chmod 0440 "$ROOT/etc/sudoers.d/$user"
    home="/home/$user"
  fi
  mkdir -p "$ROOT$home/polaris-tray"
  if [ -n "$REV" ]; then
    git -C "$PROJECT" archive "$REV" | tar -x -C "$ROOT$home/polaris-tray"
  else
    git -C "$PROJECT" ls-files -z --cached --others --exclude-standard |
      (cd "$PROJECT" && tar --null -T - -cf -) | tar -x -C "$ROOT$home/polaris-tray"
  fi
  [ "$user" = root ] || in_chroot "$ROOT" chown -R "$user:" "$home/polaris-tray"
  WHO="$user" WHERE="$home/polaris-tray"
}

run_in() {  # run_in USER SHELL-COMMAND [ENV...]: in the root's project folder, with a clean environment
  local user="$1" cmd="$2" home=/root
  shift 2
  [ "$user" = root ] || home="/home/$user"
  in_chroot "$ROOT" runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${PIP_VARS[@]}" "$@" \
    bash -c "cd ${WHERE:-$home} 2>/dev/null; $cmd"
}

packages() {  # count and installed size of the root's Debian packages
  run_in root "dpkg-query -W -f='\${db:Status-Abbrev} \${Installed-Size}\n'" |
    awk '/^ii/ { n++; kb += $2 } END { printf "%d packages, %.0f MB", n, kb / 1024 }'
}
venv_size() { run_in root "du -sm .venv | cut -f1"; }

now_ms() { echo "$(($(date +%s%N) / 1000000))"; }

wait_online() {  # milliseconds from launch until the log says online; fails after LIMIT seconds
  local log="$1" start="$2" limit="$3"
  while ! grep -q -- "-> online" "$log"; do
    if (($(now_ms) - start > limit * 1000)); then tail -20 "$log" >&2; return 1; fi
    sleep 0.1
  done
  echo "$(($(now_ms) - start))"
}

start_display() {  # an X server on this machine; the roots reach it through the shared socket folder
  local n=400
  while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || grep -q "@/tmp/.X11-unix/X$n$" /proc/net/unix; do
    n=$((n + 1))
  done
  Xvfb ":$n" -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  while [ ! -e "/tmp/.X11-unix/X$n" ]; do sleep 0.1; done
  DISPLAY_NAME=":$n"
}

tray_run() {  # tray_run PHASE USER START-CMD QUIT-CMD LOG: until online, then quit; nothing may stay
  local phase="$1" user="$2" log="$WORK/$5" start pid left
  start="$(now_ms)"
  run_in "$user" "$3" DISPLAY="$DISPLAY_NAME" >"$log" 2>&1 &
  pid=$!
  MS="$(wait_online "$log" "$start" 1800)" || { say "$phase: FAILED, not online ($5)"; exit 1; }
  [ -z "${AFTER_ONLINE:-}" ] || "$AFTER_ONLINE"
  run_in "$user" "$4" DISPLAY="$DISPLAY_NAME" >>"$log" 2>&1
  wait "$pid" || { say "$phase: FAILED, the app exited with $? ($5)"; exit 1; }
  left="$(in_root_pids "$ROOT")"
  if [ -n "$left" ]; then
    say "$phase: FAILED, still running after --quit: $(ps -o pid=,args= -p "${left//$'\n'/,}")"
    exit 1
  fi
}

app_phase() {
  new_root "$APP_USER" app
  local before
  before="$(packages)"
  say "app phase: a fresh root ($before), as $WHO"
  start_display
  report_install() { say "app phase: packages before $before, after $(packages); .venv $(venv_size) MB"; }
  AFTER_ONLINE=report_install tray_run "app phase" "$WHO" "$APP_CMD" "./build_scripts/run-app.sh --quit" app-first.log
  say "app phase: first launch (installs included) online after $MS ms; quit, nothing left running"
  tray_run "app phase" "$WHO" "$APP_CMD" "./build_scripts/run-app.sh --quit" app-second.log
  say "app phase: second launch online after $MS ms; quit, nothing left running"
  if run_in root ".venv/bin/python -c 'import pytest'" 2>/dev/null ||
    run_in root ".venv/bin/python -c 'import PyInstaller'" 2>/dev/null; then
    say "app phase: FAILED, the app's environment holds test or build tools"; exit 1
  fi
  # no Python warning from the install (setuptools prints them as "SomethingWarning: ..."); pip's notes on
  # this machine's local indexes ("WARNING: Location ... is ignored") are not the project's
  grep -E "[A-Za-z]Warning\b" "$WORK/app-first.log" >"$WORK/app-warnings.txt" || true
  [ ! -s "$WORK/app-warnings.txt" ] || { say "app phase: FAILED, the install warns (app-warnings.txt)"; exit 1; }
  say "app phase: no pytest or PyInstaller in the app's .venv; no setuptools warning"
  cleanup
  done_with_root
}

DEB=""
test_phase() {
  new_root "$TEST_USER" test
  local before rc=0 start result
  before="$(packages)"
  say "test phase: a fresh root ($before), as $WHO"
  start="$(date +%s)"
  run_in "$WHO" "$TEST_CMD" >"$WORK/test.log" 2>&1 || rc=$?
  result="$(grep -E '^=+ .*(passed|failed|error).* =+$' "$WORK/test.log" | tail -1)"
  say "test phase: exit $rc after $(($(date +%s) - start)) s: $result"
  say "test phase: packages before $before, after $(packages); .venv $(venv_size) MB"
  DEB="$(find "$ROOT$WHERE/dist" -maxdepth 1 -name 'polaris-tray_*.deb' 2>/dev/null | head -1)"
  [ -z "$DEB" ] || { cp "$DEB" "$WORK/" && DEB="$WORK/$(basename "$DEB")"; }
  cleanup
  ((rc)) || done_with_root
  return "$rc"
}

deb_phase() {  # the .deb the test phase built, installed with apt into a third fresh root
  [ -n "$DEB" ] || { say "deb phase: FAILED, the build made no .deb"; exit 1; }
  new_root root deb
  local before
  before="$(packages)"
  cp "$DEB" "$ROOT/root/"
  run_in root "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/$(basename "$DEB")" \
    >"$WORK/deb.log" 2>&1 || { say "deb phase: FAILED, apt could not install it (deb.log)"; exit 1; }
  say "deb phase: apt installed $(basename "$DEB"): packages before $before, after $(packages)"
  run_in root "polaris-tray --demo --once" >>"$WORK/deb.log" 2>&1 || { say "deb phase: FAILED, --once"; exit 1; }
  start_display
  tray_run "deb phase" root "polaris-tray --demo" "polaris-tray --quit" deb-tray.log
  say "deb phase: polaris-tray --demo online after $MS ms in the tray app; quit, nothing left running"
  run_in root "apt-get purge -y -q polaris-tray && ! test -e /opt/polaris-tray && ! test -e /usr/bin/polaris-tray" \
    >>"$WORK/deb.log" 2>&1 || { say "deb phase: FAILED, purge left files"; exit 1; }
  say "deb phase: purged, nothing left in /opt or /usr/bin"
  cleanup
  done_with_root
}

: >"$WORK/summary.txt"
say "$(date -u +%FT%TZ) project $(git -C "$PROJECT" rev-parse --short HEAD)${REV:+ (checked: $REV)}"
[ "$ONLY" = test ] || app_phase
[ "$ONLY" = app ] || test_phase
[ -n "$ONLY" ] || deb_phase
say "all checked phases passed"
