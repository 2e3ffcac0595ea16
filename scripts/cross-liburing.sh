#!/bin/sh
# liburing for a cross build, without touching the host's apt setup.
#
#   scripts/cross-liburing.sh DEB_ARCH DEST [CC]
#
# e.g. scripts/cross-liburing.sh arm64 build/cross/arm64 aarch64-linux-gnu-gcc
#
# Debian 12 has no liburing-dev for another architecture that installs
# beside the host's, so this takes Debian's own packages for DEB_ARCH:
# apt runs with a private sources list (the host's mirror of bookworm
# main, for DEB_ARCH only) and private state and cache under
# DEST/../apt-DEB_ARCH, as qemu/fetch-source.sh does for the kernel; only
# `apt-get update`, `apt-get download` and `apt-get source` are used.
# liburing-dev and liburing2 are unpacked with dpkg-deb -x into DEST, which
# then holds usr/include/liburing.h and usr/lib/<triple>/liburing.{a,so}.
#
# Should the binary packages be out of reach, the Debian source package is
# built instead with CC (liburing's own configure and src/Makefile), and
# its headers and liburing.a are put at the same places.  Either way DEST
# is only filled once everything worked.  CROSS_LIBURING_FROM_SOURCE=1
# skips the binary packages.
set -eu

arch=$1 dest=$2 cc=${3:-}
suite=${CROSS_LIBURING_SUITE:-bookworm}
mirror=${CROSS_LIBURING_MIRROR:-http://deb.debian.org/debian}

[ -s "$dest/usr/include/liburing.h" ] && exit 0
mkdir -p "$(dirname "$dest")"
top=$(cd "$(dirname "$dest")" && pwd)
dest=$top/$(basename "$dest")
apt=$top/apt-$arch
mkdir -p "$apt/etc/preferences.d" "$apt/state/lists/partial" \
	"$apt/cache/archives/partial" "$apt/dl"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
{
	echo "deb [arch=$arch signed-by=$keyring] $mirror $suite main"
	echo "deb-src [signed-by=$keyring] $mirror $suite main"
} >"$apt/etc/sources.list"
aptp() {	# apt-get with the private setup, for DEB_ARCH only
	apt-get -q -o Dir::Etc::SourceList="$apt/etc/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences="$apt/etc/preferences" \
		-o Dir::Etc::PreferencesParts="$apt/etc/preferences.d" \
		-o Dir::State="$apt/state" -o Dir::State::Status=/dev/null \
		-o Dir::Cache="$apt/cache" -o APT::Get::List-Cleanup=0 \
		-o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
		-o APT::Sandbox::User=root "$@"
}
fail() {
	echo "cross-liburing: $*" >&2
	echo "  Either make $mirror reachable and rerun, or unpack liburing for $arch" >&2
	echo "  yourself so that $dest/usr/include/liburing.h and" >&2
	echo "  $dest/usr/lib/<triple>/liburing.a exist." >&2
	exit 1
}

echo "==> liburing for $arch from $suite (private apt state under ${apt#"$PWD"/})"
aptp update >"$apt/update.log" 2>&1 || { cat "$apt/update.log" >&2; fail "apt-get update failed"; }

tmp=$dest.tmp
rm -rf "$tmp" "$apt/dl"/*
mkdir -p "$tmp"
if [ "${CROSS_LIBURING_FROM_SOURCE:-0}" != 1 ] &&
   (cd "$apt/dl" && aptp download "liburing-dev:$arch" "liburing2:$arch") \
		>"$apt/download.log" 2>&1; then
	for deb in "$apt/dl"/*.deb; do
		dpkg-deb -x "$deb" "$tmp"
		echo "  $(dpkg-deb -f "$deb" Package Version | paste -sd' ')"
	done
else
	[ "${CROSS_LIBURING_FROM_SOURCE:-0}" = 1 ] || cat "$apt/download.log" >&2
	[ -n "$cc" ] || fail "no binary packages, and no CC to build the source with"
	echo "  building the source package with $cc"
	(cd "$apt/dl" && aptp source liburing) >"$apt/source.log" 2>&1 ||
		{ cat "$apt/source.log" >&2; fail "apt-get source liburing failed"; }
	src=$(find "$apt/dl" -mindepth 1 -maxdepth 1 -type d -name 'liburing-*' | head -n 1)
	[ -n "$src" ] || fail "apt-get source left no liburing-* folder"
	triple=$($cc -dumpmachine)
	(cd "$src" && ./configure --cc="$cc" --prefix=/usr \
		--libdir="/usr/lib/$triple" --includedir=/usr/include &&
	 make -C src ENABLE_SHARED=0 liburing.a) >"$apt/build.log" 2>&1 ||
		{ tail -n 30 "$apt/build.log" >&2; fail "building liburing failed"; }
	mkdir -p "$tmp/usr/include/liburing" "$tmp/usr/lib/$triple"
	cp "$src/src/include/liburing.h" "$tmp/usr/include/"
	cp "$src/src/include/liburing/"*.h "$tmp/usr/include/liburing/"
	cp "$src/src/liburing.a" "$tmp/usr/lib/$triple/"
fi
[ -s "$tmp/usr/include/liburing.h" ] || fail "no usr/include/liburing.h came out"
rm -rf "$dest"
mv "$tmp" "$dest"
rm -rf "$apt/dl"
echo "==> $dest"
