#!/usr/bin/env bash
# Install what pants-pyo3 needs to build PyO3 extensions for aarch64 Linux on an x86_64 Debian 12
# (bookworm) machine, and to import them under emulation. Idempotent: when everything is in place it
# only checks (dpkg-query and a stamp file) and exits in well under a second.
#
#   build-support/cross/setup-aarch64.sh           # install (as root) what is missing
#   build-support/cross/setup-aarch64.sh --check   # only report; exit 1 if something is missing
#
# What it installs (see docs/cross.md for why each piece):
#   * Debian's `rustc-web` + `cargo-web` (/usr/bin/rustc, /usr/bin/cargo) and `libstd-rust-web-dev:arm64`,
#     the aarch64 standard library of exactly that rustc (rustup can't download other targets here);
#   * `gcc-aarch64-linux-gnu` and `libc6-dev-arm64-cross`, the linker and the aarch64 glibc 2.36 it links
#     against (under /usr/aarch64-linux-gnu);
#   * `qemu-user`, which runs aarch64 programs (`qemu-aarch64 -L <sysroot> ...`);
#   * an aarch64 CPython 3.11 in a private sysroot, unpacked from Debian's arm64 packages with
#     `apt-get download` + `dpkg-deb -x`. It can't be installed with dpkg: `python3.11:arm64` is
#     `Multi-Arch: allowed` and would replace the machine's own python3.11, and `libpython3.11-dev:arm64`
#     would force an upgrade of the host's python3.11 packages to its exact version.
#
# It then writes `$PANTS_PYO3_CROSS_ROOT/aarch64-unknown-linux-gnu/toolchain.json`, which `./pants` reads to
# set `[pyo3-cross].toolchains` for this machine.
#
# Versions are pinned to what was tested; override with the environment variables below when Debian's
# archive has moved on (the security archive keeps only the newest rustc-web).
set -euo pipefail

RUST_VERSION="${PANTS_PYO3_CROSS_RUST_VERSION:-1.96.0+dfsg1-1~deb12u2}"
GCC_VERSION="${PANTS_PYO3_CROSS_GCC_VERSION:-4:12.2.0-3}"
GLIBC_CROSS_VERSION="${PANTS_PYO3_CROSS_GLIBC_VERSION:-2.36-8cross1}"
QEMU_VERSION="${PANTS_PYO3_CROSS_QEMU_VERSION:-1:7.2+dfsg-7+deb12u18+b3}"
PYTHON_SERIES="3.11"
PYTHON_VERSION="${PANTS_PYO3_CROSS_PYTHON_VERSION:-3.11.2-6+deb12u9}"
CROSS_ROOT="${PANTS_PYO3_CROSS_ROOT:-/opt/pants-pyo3/cross}"
TRIPLE="aarch64-unknown-linux-gnu"
DEB_ARCH="arm64"
KIT="$CROSS_ROOT/$TRIPLE"
SYSROOT="$KIT/sysroot"

# Host packages, as name=version.
HOST_PACKAGES=(
  "rustc-web=$RUST_VERSION"
  "cargo-web=$RUST_VERSION"
  "libstd-rust-web-dev:$DEB_ARCH=$RUST_VERSION"
  "gcc-aarch64-linux-gnu=$GCC_VERSION"
  # Only a Recommends of the cross gcc, but without it the link fails (`cannot find crti.o`).
  "libc6-dev-arm64-cross=$GLIBC_CROSS_VERSION"
  "qemu-user=$QEMU_VERSION"
)
# arm64 packages unpacked into the private sysroot: the interpreter, its standard library and the
# shared libraries it and a Rust extension load (libc, libgcc_s). Unversioned ones take the candidate.
SYSROOT_PACKAGES=(
  "python$PYTHON_SERIES-minimal=$PYTHON_VERSION"
  "libpython$PYTHON_SERIES-minimal=$PYTHON_VERSION"
  "libpython$PYTHON_SERIES-stdlib=$PYTHON_VERSION"
  "libpython$PYTHON_SERIES=$PYTHON_VERSION"
  "libpython$PYTHON_SERIES-dev=$PYTHON_VERSION"
  libc6 libgcc-s1 zlib1g libexpat1 libffi8 libbz2-1.0 liblzma5 libssl3 libcrypt1 libuuid1
)

check_only=0
if [[ "${1:-}" == "--check" ]]; then check_only=1; fi

say() { echo "setup-aarch64: $*" >&2; }

# `name[:arch]=version` -> the installed version, or nothing.
# dpkg-query exits non-zero for a package dpkg has never heard of (the usual case on a new machine);
# under `set -e -o pipefail` that would end the script inside the command substitution, without a word.
installed_version() {
  { dpkg-query -W -f='${db:Status-Status} ${Version}\n' "${1%%=*}" 2>/dev/null || true; } | awk '$1 == "installed" {print $2}'
}

# A package counts as present at any version: apt keeps rustc-web and its arm64 standard library at
# one version (`Multi-Arch: same`, exact Depends), and a newer security release is fine. The pins say
# what gets installed when it is missing.
missing=()
for spec in "${HOST_PACKAGES[@]}"; do
  have="$(installed_version "$spec")"
  if [[ -z "$have" ]]; then
    missing+=("$spec")
  elif [[ "$have" != "${spec#*=}" ]]; then
    say "note: ${spec%%=*} $have is installed (tested with ${spec#*=})"
  fi
done
sysroot_stamp="$KIT/.sysroot-packages"
sysroot_wanted="$(printf '%s\n' "${SYSROOT_PACKAGES[@]}")"
sysroot_ok=0
if [[ -f "$sysroot_stamp" && "$(head -n "${#SYSROOT_PACKAGES[@]}" "$sysroot_stamp")" == "$sysroot_wanted" ]]; then
  sysroot_ok=1
fi

write_descriptor() {
  local python="$SYSROOT/usr/bin/python$PYTHON_SERIES"
  local tmp="$KIT/toolchain.json.tmp"
  # Every value is a string, so the file is both JSON and a Python dict literal (Pants' option syntax).
  cat >"$tmp" <<EOF
{
  "rustc": "/usr/bin/rustc",
  "cargo": "/usr/bin/cargo",
  "linker": "/usr/bin/aarch64-linux-gnu-gcc",
  "sysroot": "$SYSROOT",
  "runner": "/usr/bin/qemu-aarch64 -L $SYSROOT"
}
EOF
  mv "$tmp" "$KIT/toolchain.json"
  [[ -x "$python" ]] || { say "no $python after unpacking; this is a bug in setup-aarch64.sh"; exit 1; }
}

if [[ ${#missing[@]} -eq 0 && $sysroot_ok -eq 1 ]]; then
  [[ -f "$KIT/toolchain.json" ]] || write_descriptor
  say "everything is installed ($KIT/toolchain.json)"
  exit 0
fi

if [[ $check_only -eq 1 || $EUID -ne 0 ]]; then
  say "missing:"
  for spec in "${missing[@]}"; do say "  apt package $spec"; done
  if [[ $sysroot_ok -eq 0 ]]; then say "  aarch64 python sysroot $SYSROOT (from: ${SYSROOT_PACKAGES[*]})"; fi
  if [[ $check_only -eq 0 ]]; then
    say "run this script as root to install them; as root it would run:"
    say "  dpkg --add-architecture $DEB_ARCH && apt-get update"
    [[ ${#missing[@]} -eq 0 ]] || say "  apt-get install --no-install-recommends ${missing[*]}"
    [[ $sysroot_ok -eq 1 ]] || say "  apt-get download <the packages above>:$DEB_ARCH; dpkg-deb -x each into $SYSROOT"
  fi
  exit 1
fi

apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"; }

# One installer at a time (the sysroot is replaced by a rename, but two downloads would race).
mkdir -p "$KIT"
exec 9>"$KIT/.lock"
flock 9

if ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
  say "adding the $DEB_ARCH architecture to dpkg"
  dpkg --add-architecture "$DEB_ARCH"
  apt_get update -qq
elif ! apt-cache show "libstd-rust-web-dev:$DEB_ARCH" >/dev/null 2>&1; then
  apt_get update -qq
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]}"
  install() { DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  # Stale package lists may not know the pinned versions yet: refresh them once and retry.
  install || { apt_get update -qq && install; }
fi

if [[ $sysroot_ok -eq 0 ]]; then
  say "unpacking an aarch64 CPython $PYTHON_SERIES into $SYSROOT"
  debs="$(mktemp -d)"
  trap 'rm -rf "$debs"' EXIT
  # apt downloads as its sandbox user `_apt`, which must be able to write here.
  chmod 755 "$debs"
  chown _apt "$debs" 2>/dev/null || true
  specs=()
  for spec in "${SYSROOT_PACKAGES[@]}"; do
    if [[ "$spec" == *=* ]]; then specs+=("${spec%%=*}:$DEB_ARCH=${spec#*=}"); else specs+=("$spec:$DEB_ARCH"); fi
  done
  (cd "$debs" && apt_get download -qq "${specs[@]}")
  rm -rf "$SYSROOT.tmp"
  mkdir -p "$SYSROOT.tmp"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$SYSROOT.tmp"; done
  rm -rf "$SYSROOT"
  mv "$SYSROOT.tmp" "$SYSROOT"
  # The stamp lists the wanted specs, then the exact .deb files unpacked (for the record).
  { echo "$sysroot_wanted"; (cd "$debs" && ls ./*.deb | sed 's|^\./|# |'); } >"$sysroot_stamp"
fi
write_descriptor

# The standard library must sit where this rustc looks for it, or every build fails late.
libdir="$(/usr/bin/rustc --print target-libdir --target "$TRIPLE")"
if ! compgen -G "$libdir/libstd-*.rlib" >/dev/null; then
  say "/usr/bin/rustc has no $TRIPLE standard library in $libdir; is libstd-rust-web-dev:$DEB_ARCH at rustc-web's version?"
  exit 1
fi
rustc_release="$(/usr/bin/rustc -V)"
say "done: $rustc_release with the $TRIPLE standard library, $(/usr/bin/aarch64-linux-gnu-gcc -dumpversion) cross gcc,"
say "      $(/usr/bin/qemu-aarch64 --version | head -n1), CPython $PYTHON_VERSION (aarch64) in $SYSROOT"
say "      toolchain descriptor: $KIT/toolchain.json"
