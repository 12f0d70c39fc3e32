#!/usr/bin/env bash
# The README's two commands on a bare Debian 12 machine (docs/bare-machine.md).
#
#   build-support/bare-machine/check.sh                 # as root, on a Debian/Ubuntu x86_64 machine
#   build-support/bare-machine/check.sh --package-only  # `./pants package ::` and its checks, not the tests
#
# 1. A bare Debian 12 (bookworm) root: `debootstrap --variant=minbase` plus only what a new machine of
#    this kind has (BASE_PACKAGES below). It is cached under $PANTS_PYO3_BARE_CACHE (default
#    /var/cache/pants-pyo3-bare), keyed by a hash of what went into it; nothing of the project's set-up
#    is ever written there.
# 2. Each run works on a throwaway overlay of it (a copy if overlayfs is not available), given this
#    machine's own set-up: its pyenv root and rustup home read-only at the same paths, cargo's bin/
#    read-only inside a writable cargo home, its apt sources, CA bundle, /etc/pip.conf and TLS/pip
#    variables; proc, a fresh /dev and a tmpfs on /tmp. The Debian 11 root the glibc-baseline test
#    makes is cached too, in $PANTS_PYO3_BARE_CACHE/bullseye.
# 3. It clones the commit checked out here into the root (uncommitted changes are not tested) and runs
#    build-support/bare-machine/inside.sh there, as root in a PID namespace: `./pants package ::`,
#    `./pants test ::`, then a wheel installed with `pip --no-index --find-links dist` and the pex.
# 4. Whatever happens (failure, Ctrl-C, TERM), every process in the root is ended and every mount is
#    removed before the run's directory is deleted; a run killed outright is cleaned up by the next one.
#
# Exits with inside.sh's status (non-zero if a command or a check failed), or 2 if the set-up failed.
set -euo pipefail

SUITE="bookworm"
MIRROR="${PANTS_PYO3_BARE_MIRROR:-http://deb.debian.org/debian}"
CACHE="${PANTS_PYO3_BARE_CACHE:-/var/cache/pants-pyo3-bare}"
# What a new machine of this kind has that matters to a build (the image's package list, e.g. git, a C
# toolchain, Debian's python3), and the run-time libraries pyenv's CPythons load.
BASE_PACKAGES=(
  git build-essential pkg-config libssl-dev python3 python3-dev python3-venv ca-certificates curl
  xz-utils procps file unzip zip
  libssl3 libffi8 zlib1g libbz2-1.0 liblzma5 libsqlite3-0 libreadline8 libncursesw6 libgdbm6 libuuid1
  libexpat1
)
# The project's checkout inside the root (HOME is /root there, as here for root).
CLONE=/root/pants-pyo3

say() { echo "bare-machine: $*" >&2; }
die() { say "$*"; exit 2; }
t0=$SECONDS

[[ "$(id -u)" == 0 ]] || die "must run as root (debootstrap, mounts, chroot)"
repo="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
commit="$(git -C "$repo" rev-parse HEAD)"
if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]]; then
  say "note: $repo has uncommitted changes; the bare machine tests the commit $commit"
fi

# --- mounts -----------------------------------------------------------------------------------------
# Mount points at or under $1, deepest first (the paths /proc/self/mountinfo escapes as \ooo decoded).
mounts_under() {
  local dir="$1" target
  awk '{print $5}' /proc/self/mountinfo | while read -r target; do
    target="$(printf '%b' "$target")"
    if [[ "$target" == "$dir" || "$target" == "$dir"/* ]]; then echo "$target"; fi
  done | sort -r
}

# Unmount everything at or under $1; returns non-zero if anything is still mounted there.
unmount_under() {
  local dir="$1" target
  while read -r target; do
    [[ -n "$target" ]] || continue
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done < <(mounts_under "$dir")
  if [[ -n "$(mounts_under "$dir")" ]]; then umount -R -l "$dir" 2>/dev/null || true; fi
  if [[ -n "$(mounts_under "$dir")" ]]; then
    say "still mounted under $dir:"; mounts_under "$dir" | sed 's/^/  /' >&2
    return 1
  fi
}

# Remove a directory only once nothing is mounted under it (a bind mount would be deleted through).
remove_dir() {
  local dir="$1"
  [[ -e "$dir" ]] || return 0
  unmount_under "$dir" || { say "left $dir in place"; return 1; }
  rm -rf --one-file-system "$dir"
}

bind_ro() {
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mount -o remount,bind,ro "$2"
}

mkdir -p "$CACHE/runs"
exec 8>"$CACHE/.lock"

# Runs that were killed outright (their process is gone) leave a directory behind: clean it up.
flock 8
for stale in "$CACHE"/runs/*/ "$CACHE"/base-*.tmp/; do
  [[ -d "$stale" ]] || continue
  stale="${stale%/}"
  pid="$(cat "$stale/pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
  say "cleaning up $stale, left by a run that did not finish"
  remove_dir "$stale" || true
done
flock -u 8

run="$(mktemp -d "$CACHE/runs/run.XXXXXX")"
echo $$ >"$run/pid"
root="$run/root"
child=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    # unshare --kill-child: when it dies, the root's PID 1 is killed, and with it every process in the
    # root's PID namespace (pantsd, cargo, the tests). unshare ignores TERM while it waits, and a
    # namespace's PID 1 ignores it too, so only KILL ends them.
    kill -KILL "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if ! remove_dir "$run"; then status=2; fi
  if [[ -n "$(mounts_under "$run")" ]]; then say "mounts left under $run (see /proc/mounts)"; status=2; fi
  say "total: $((SECONDS - t0)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM HUP

# --- the base root, cached --------------------------------------------------------------------------
key="$(printf '%s\n' "format 1" "$SUITE" "$MIRROR" minbase "${BASE_PACKAGES[@]}" | sha256sum | cut -c1-16)"
base="$CACHE/base-$key"
start=$SECONDS
flock 8
if [[ ! -d "$base" ]]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  say "building the base root with debootstrap ($SUITE, minbase + ${#BASE_PACKAGES[@]} packages) in $base"
  tmp="$base.tmp"
  remove_dir "$tmp"
  mkdir -p "$tmp"
  echo $$ >"$tmp/pid"
  if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${BASE_PACKAGES[*]}")" "$SUITE" "$tmp" "$MIRROR" \
      >"$run/debootstrap.log" 2>&1; then
    tail -n 30 "$run/debootstrap.log" >&2
    remove_dir "$tmp" || true
    die "debootstrap failed"
  fi
  rm -f "$tmp/pid"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*_Packages
  mv "$tmp" "$base"
  for old in "$CACHE"/base-*; do [[ "$old" == "$base" || "$old" == *.tmp ]] || remove_dir "$old" || true; done
  say "base root: built in $((SECONDS - start)) s"
else
  say "base root: cached ($base)"
fi
flock -u 8

# --- this run's root --------------------------------------------------------------------------------
start=$SECONDS
mkdir -p "$run/upper" "$run/work" "$root"
if ! mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root" 2>/dev/null; then
  say "overlayfs is not available here: copying the base root"
  cp -a "$base/." "$root/"
fi

# A fresh /dev: a few device nodes and a private devpts, nothing of the machine's own.
mount -t tmpfs -o mode=0755,nosuid dev "$root/dev"
for node in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
  read -r name type major minor <<<"$node"
  mknod -m 666 "$root/dev/$name" "$type" "$major" "$minor"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid tmp "$root/tmp"
# proc is mounted by unshare below, inside the root's own mount and PID namespaces.

# The toolchains of this machine, read-only at the same paths. cargo writes its registry under
# CARGO_HOME, so only cargo's bin/ (rustup's proxies) is read-only; the rest of the home is the root's own.
pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root 2>/dev/null || true)"; fi
pyenv_root="${pyenv_root:-${PYENV_ROOT:-$HOME/.pyenv}}"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
[[ -d "$pyenv_root/versions" ]] || die "no pyenv root found (pyenv root, \$PYENV_ROOT, ~/.pyenv): the README's commands need its CPythons"
[[ -d "$rustup_home" && -d "$cargo_home/bin" ]] || die "no rustup toolchain found ($rustup_home, $cargo_home/bin)"
bind_ro "$pyenv_root" "$root$pyenv_root"
bind_ro "$rustup_home" "$root$rustup_home"
mkdir -p "$root$cargo_home"
find "$cargo_home" -maxdepth 1 -type f ! -name 'credentials*' -exec cp -p {} "$root$cargo_home/" \;
bind_ro "$cargo_home/bin" "$root$cargo_home/bin"
# The Debian 11 root that wheel/glibc_baseline_integration_test.py makes with debootstrap is an OS
# image like the base root, not the project's set-up: it is cached beside the base root (writable:
# the test fills it once, then only reads it through overlays of its own).
mkdir -p "$CACHE/bullseye" "$root/var/cache/pants-pyo3-bullseye"
mount --bind "$CACHE/bullseye" "$root/var/cache/pants-pyo3-bullseye"

# This machine's network, apt and TLS configuration.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cp -L /etc/hosts "$root/etc/hosts"
rm -f "$root/etc/apt/sources.list"
[[ ! -f /etc/apt/sources.list ]] || cp /etc/apt/sources.list "$root/etc/apt/sources.list"
find /etc/apt/sources.list.d -maxdepth 1 -type f \( -name '*.list' -o -name '*.sources' \) \
  -exec cp {} "$root/etc/apt/sources.list.d/" \;
find /etc/apt/trusted.gpg.d -maxdepth 1 -type f -exec cp -n {} "$root/etc/apt/trusted.gpg.d/" \; 2>/dev/null || true
while read -r keyring; do
  if [[ -f "$keyring" && ! -e "$root$keyring" ]]; then mkdir -p "$(dirname "$root$keyring")"; cp "$keyring" "$root$keyring"; fi
done < <(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^Signed-By:[[:space:]]*\(\/[^[:space:]]*\)$/\1/p'; \
         grep -ohE 'signed-by=/[^] ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | cut -d= -f2)
# apt settings of how to fetch (proxies, validity checks), not the machine's other apt hooks.
for conf in /etc/apt/apt.conf.d/*; do
  if grep -qE '^[[:space:]]*Acquire' "$conf" 2>/dev/null; then cp "$conf" "$root/etc/apt/apt.conf.d/"; fi
done
[[ ! -f /etc/pip.conf ]] || cp /etc/pip.conf "$root/etc/pip.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"

# The environment a user of this machine has: PATH, locale, and every TLS, proxy, pip, pyenv and rustup
# variable. Files they name (a CA bundle) are copied to the same path; directories they name (pip's
# find-links) are made, empty, if the root has none.
env_args=(HOME=/root "PATH=$PATH" "LANG=${LANG:-C.UTF-8}")
while IFS='=' read -r name value; do
  case "$name" in
    LC_*|TERM|CI|TZ|PIP_*|PYENV_*|RUSTUP_*|CARGO_HOME|RUST_BACKTRACE|[Hh][Tt][Tt][Pp]*_[Pp][Rr][Oo][Xx][Yy]|[Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]|[Aa][Ll][Ll]_[Pp][Rr][Oo][Xx][Yy]|*SSL*|*CERT*|*CA_BUNDLE*|*CAINFO*) ;;
    *) continue ;;
  esac
  env_args+=("$name=$value")
  if [[ "$value" == /* && -f "$value" && ! "$value" -ef "$root$value" ]]; then
    mkdir -p "$(dirname "$root$value")" && cp -L "$value" "$root$value"
  elif [[ "$value" == /* && -d "$value" && ! -e "$root$value" ]]; then
    mkdir -p "$root$value"
  fi
done < <(env -0 | tr '\0\n' '\n ' | grep -E '^[A-Za-z_][A-Za-z0-9_]*=')

git clone -q --no-hardlinks "$repo" "$root$CLONE"
git -C "$root$CLONE" checkout -q --detach "$commit"
say "root ready in $((SECONDS - start)) s: $root (commit $(git -C "$repo" log -1 --format='%h %s' "$commit"))"
say "  read-only: $pyenv_root, $rustup_home, $cargo_home/bin; passed: ${env_args[*]%%=*}"

# --- the README's commands, inside ------------------------------------------------------------------
# A PID namespace (so nothing started inside, pantsd included, outlives the run) with its own proc;
# unshare dies with this script even if it is killed outright (--pdeathsig), and the namespace with it.
setpriv --pdeathsig KILL unshare --pid --fork --kill-child --mount-proc="$root/proc" \
  chroot "$root" /usr/bin/env -i "${env_args[@]}" /bin/bash "$CLONE/build-support/bare-machine/inside.sh" "$CLONE" "$@" </dev/null &
child=$!
status=0
wait "$child" || status=$?
child=""
exit "$status"
