#!/bin/sh
# Fetch another architecture's Debian packages for the guest, without
# touching the host's apt setup or dpkg database.
#
#   qemu/fetch-sysroot.sh DEBARCH OUTDIR PACKAGE...
#
# For the arm64 guest built on an x86-64 host: busybox-static (the guest's
# shell and tools, for the initramfs) and libcap-dev (the libcap.a of the
# kernel's clone3 selftests).  The cross compiler itself
# (gcc-aarch64-linux-gnu) comes from the host's apt as usual.
#
# apt runs as in qemu/fetch-source.sh (qemu/private-apt.sh): a private sources list (the host's
# Debian release, from /etc/os-release, main component) and private state
# and cache folders under OUTDIR/apt, with the host's keyring, and with
# APT::Architecture set to DEBARCH for these commands only; the host's dpkg
# is never told about DEBARCH (no `dpkg --add-architecture`).  The packages
# are unpacked with `dpkg-deb -x` into OUTDIR (OUTDIR/bin/busybox,
# OUTDIR/usr/lib/aarch64-linux-gnu/libcap.a, OUTDIR/usr/include/...), and
# OUTDIR/packages lists what was taken, with versions.
#
# A no-op when OUTDIR/packages already names every PACKAGE.
set -eu

arch=$1
out=$2
shift 2
[ $# -gt 0 ] || { echo "usage: fetch-sysroot.sh DEBARCH OUTDIR PACKAGE..." >&2; exit 2; }

have=1
for p in "$@"; do
	grep -q "^$p " "$out/packages" 2>/dev/null || have=0
done
[ "$have" = 0 ] || exit 0

# shellcheck source=/dev/null
suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
suite=${suite:-bookworm}
uri=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=qemu/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt "$out/apt" "deb [arch=$arch signed-by=$keyring] $uri $suite main" "$arch"

echo "==> fetching $* ($arch, $suite; private apt state under ${apt#"$PWD"/})"
aptp apt-get update >"$apt/update.log" 2>&1 ||
	{ cat "$apt/update.log" >&2; echo "fetch-sysroot: apt-get update failed" >&2; exit 1; }
(cd "$apt/dl" && aptp apt-get download "$@") >"$apt/download.log" 2>&1 ||
	{ cat "$apt/download.log" >&2; echo "fetch-sysroot: apt-get download $* failed" >&2; exit 1; }

: >"$out/packages.tmp"
for deb in "$apt/dl"/*.deb; do
	dpkg-deb -x "$deb" "$out"
	echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(sha256sum "$deb" | cut -d' ' -f1)" \
		>>"$out/packages.tmp"
done
rm -rf "$apt/dl"
mv "$out/packages.tmp" "$out/packages"
sed 's/^/    /' "$out/packages"
