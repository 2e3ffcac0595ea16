#!/bin/sh
# Fetch Debian's linux-source-7.3 without touching the host's apt setup.
#
#   qemu/fetch-source.sh OUTFILE
#
# Reads the pinned package, version and sha256 from qemu/linux-source.conf.
# apt runs with a private sources list and private state and cache folders
# under build/linux-source/apt (qemu/private-apt.sh), so the host's configuration and package
# lists are never changed; only `apt-get update` and `apt-get download` are
# used, with the host's keyring (debian-archive-keyring carries trixie's).
#
# The pinned version is taken when the archive has it and its sha256
# matches.  Otherwise the newest 7.3.y on offer is taken, with a warning.
# When no 7.3.y can be had, the script fails and says what to do.
# OUTFILE (e.g. build/linux-source/linux-source-7.3.tar.xz) is only
# replaced once the whole download checked out.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/linux-source.conf"
out=$1
[ -s "$out" ] && exit 0

mkdir -p "$(dirname "$out")"
dir=$(cd "$(dirname "$out")" && pwd)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# shellcheck source=qemu/private-apt.sh
. "$here/private-apt.sh"
private_apt "$dir/apt" \
	"deb [signed-by=$keyring] $LINUX_SOURCE_URI $LINUX_SOURCE_SUITE $LINUX_SOURCE_COMPONENT"
fail() {
	cat >&2 <<MSG
fetch-source: $*
  Wanted $LINUX_SOURCE_PKG $LINUX_SOURCE_VERSION from $LINUX_SOURCE_URI $LINUX_SOURCE_SUITE.
  Either: check that deb.debian.org is reachable and rerun; or put a 7.3.y
  linux-source tarball at $out yourself (from the Debian package
  $LINUX_SOURCE_PKG, /usr/src/$LINUX_SOURCE_PKG.tar.xz inside it); or update
  the pin in qemu/linux-source.conf to a version the archive offers.
MSG
	exit 1
}

echo "==> fetching $LINUX_SOURCE_PKG from $LINUX_SOURCE_SUITE (private apt state under ${apt#"$PWD"/})"
aptp apt-get update >"$apt/update.log" 2>&1 || { cat "$apt/update.log" >&2; fail "apt-get update failed"; }

versions=$(aptp apt-cache madison "$LINUX_SOURCE_PKG" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}')
[ -n "$versions" ] || fail "the archive offers no $LINUX_SOURCE_PKG"

download() {	# VERSION -> path of the .deb, or failure
	rm -f "$apt/dl"/*.deb
	(cd "$apt/dl" && aptp apt-get download "$LINUX_SOURCE_PKG=$1") >"$apt/download.log" 2>&1 ||
		{ cat "$apt/download.log" >&2; return 1; }
	ls "$apt/dl"/*.deb
}

deb=
if printf '%s\n' $versions | grep -qxF "$LINUX_SOURCE_VERSION"; then
	if deb=$(download "$LINUX_SOURCE_VERSION"); then
		sum=$(sha256sum "$deb" | cut -d' ' -f1)
		if [ -n "$LINUX_SOURCE_SHA256" ] && [ "$sum" != "$LINUX_SOURCE_SHA256" ]; then
			echo "fetch-source: WARNING: $deb has sha256 $sum, pinned $LINUX_SOURCE_SHA256" >&2
			deb=
		elif [ -z "$LINUX_SOURCE_SHA256" ]; then
			echo "fetch-source: WARNING: no sha256 pinned; got $sum" >&2
		fi
	fi
else
	echo "fetch-source: WARNING: the archive no longer offers $LINUX_SOURCE_VERSION" >&2
fi
if [ -z "$deb" ]; then
	# The newest 7.3.y on offer (madison lists the newest first, but sort anyway).
	newest=$(printf '%s\n' $versions | grep '^7\.3\.' | sort -V | tail -n 1)
	[ -n "$newest" ] || fail "no 7.3.y version on offer (found: $(echo $versions))"
	echo "fetch-source: WARNING: falling back to $LINUX_SOURCE_PKG $newest (not the pinned one)" >&2
	deb=$(download "$newest") || fail "could not download $newest"
	echo "fetch-source: WARNING: $newest has sha256 $(sha256sum "$deb" | cut -d' ' -f1); pin it in qemu/linux-source.conf" >&2
fi

x=$apt/x
rm -rf "$x"
dpkg-deb -x "$deb" "$x"
tarball=$(ls "$x"/usr/src/linux-source-*.tar.xz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || fail "$deb holds no /usr/src/linux-source-*.tar.xz"
mv "$tarball" "$out.tmp"
# The version, for the commit message of the pristine tree.
dpkg-deb -f "$deb" Version >"$out.version"
mv "$out.tmp" "$out"
rm -rf "$x" "$apt/dl"
echo "==> $out ($(cat "$out.version"))"
