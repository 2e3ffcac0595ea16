#!/bin/sh
# Run commands in a clean room: a fresh minimal Debian 12 root holding a
# fresh clone of this repository's HEAD, as a new user's machine would be.
#
#   scripts/clean-room.sh [--keep] CMD...        (as root)
#   make clean-room CMD="make run"
#
# 1. A minbase root of Debian 12 (bookworm) is made with debootstrap
#    (about 80 s).  The pristine result is cached as a tarball outside the
#    repository, keyed by suite and date (/var/cache/afork-clean-room); only
#    debootstrap's own output is ever cached, nothing a script of this
#    project installs, because the point is that the project installs it.
# 2. The host's apt sources and apt settings are copied in (that is the
#    "access to the Debian archive" the README asks for), then the README's
#    prerequisites and nothing else are installed: make.
# 3. /proc, /sys and /dev are mounted inside, and `git clone` puts HEAD of
#    this repository at /root/afork.  Uncommitted changes are not taken.
# 4. Each CMD runs there as root, in order, through `sh -c` in /root/afork,
#    with a minimal environment (CI and V are passed on); the first failure
#    stops the run.  Each command's time is printed.
# 5. The clone's build/logs/ is copied back to build/logs/clean-room/, every
#    process left inside is killed, everything is unmounted, on every exit
#    path, and the root is deleted (kept with --keep; its path is printed).
#
# The exit status is that of the first failing CMD, or 0.  When the last
# command printed a summary line ("afork: N passed, ..."), it is printed
# again as the very last line.
#
# Environment: AFORK_CLEAN_ROOM_DIR (where roots are made, default
# /var/tmp), AFORK_CLEAN_ROOM_CACHE (default /var/cache/afork-clean-room),
# AFORK_CLEAN_ROOM_MIRROR (default: the host's first Debian URI, else
# http://deb.debian.org/debian).
set -eu

suite=bookworm
top=$(cd "$(dirname "$0")/.." && pwd)
keep=0
[ "${1:-}" = --keep ] && { keep=1; shift; }
[ $# -gt 0 ] || { echo "usage: clean-room.sh [--keep] CMD..." >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "clean-room: must run as root (chroot, mount)" >&2; exit 1; }

say() { echo "clean-room: $*"; }
now() { date +%s; }

# --- host tools --------------------------------------------------------------
need=
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
command -v git >/dev/null 2>&1 || need="$need git"
if [ -n "$need" ]; then
	say "installing on the host:$need"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	{ apt-get update -qq && apt-get install -y -q --no-install-recommends $need; } \
		>/tmp/clean-room-apt.log 2>&1 ||
		{ cat /tmp/clean-room-apt.log >&2; say "apt-get failed"; exit 1; }
fi

mirror=${AFORK_CLEAN_ROOM_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
			/etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n -e 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' \
		       -e 's/^deb  *\(\[[^]]*\]  *\)*\([^ ]*\/debian\)\/*  *.*/\2/p' | head -n 1)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

# --- the root, and its cleanup ------------------------------------------------
base=${AFORK_CLEAN_ROOM_DIR:-/var/tmp}
mkdir -p "$base"
root=$(mktemp -d "$base/afork-clean-room.XXXXXX")
out=$root.out
: >"$out"
mounted=

# Kill what is left inside (e.g. a QEMU of a command that failed), then
# unmount deepest first.  The root is deleted only when nothing is mounted
# under it any more: rm -rf through a bind mount of /dev would empty the
# host's /dev.
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case $r in "$root"|"$root"/*) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
	done
	for m in $mounted; do
		umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null || true
	done
	if [ -d "$top/build" ] && [ -d "$root/root/afork/build/logs" ]; then
		rm -rf "$top/build/logs/clean-room"
		mkdir -p "$top/build/logs/clean-room"
		cp -a "$root/root/afork/build/logs/." "$top/build/logs/clean-room/" 2>/dev/null || true
		say "logs copied to build/logs/clean-room/"
	fi
	if awk -v r="$root" '$2 == r || index($2, r "/") == 1 { found = 1 } END { exit !found }' \
		/proc/self/mounts; then
		say "WARNING: still mounted under $root; not deleting it"
	elif [ "$keep" = 1 ]; then
		say "root kept at $root"
	else
		rm -rf --one-file-system "$root"
	fi
	summary=$(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1 || true)
	rm -f "$out"
	[ -z "$summary" ] || echo "$summary"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- 1. debootstrap, or the cached pristine root -------------------------------
cache=${AFORK_CLEAN_ROOM_CACHE:-/var/cache/afork-clean-room}
tarball=$cache/$suite-minbase-$(date -u +%Y%m%d).tar
start=$(now)
if [ -s "$tarball" ]; then
	say "pristine $suite minbase root from the cache ($tarball)"
	tar -xf "$tarball" -C "$root"
else
	say "debootstrap --variant=minbase $suite from $mirror (about 80 s)"
	if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" \
		>"$root.debootstrap.log" 2>&1; then
		tail -n 30 "$root.debootstrap.log" >&2
		rm -f "$root.debootstrap.log"
		say "debootstrap failed"
		exit 1
	fi
	rm -f "$root.debootstrap.log"
	mkdir -p "$cache"
	# Older tarballs of the same suite are out of date now.
	rm -f "$cache/$suite"-minbase-*.tar
	tar -cf "$tarball.tmp" -C "$root" . && mv "$tarball.tmp" "$tarball"
fi
say "root ready in $(( $(now) - start )) s: $root"

# --- 2. access to the archive, and the README's prerequisites -----------------
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
	 /etc/apt/sources.list.d/*.list /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] || continue
	mkdir -p "$root$(dirname "$f")"
	cp "$f" "$root$f"
done
# debootstrap's own sources.list would list the suite twice.
[ -e /etc/apt/sources.list ] || rm -f "$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# --- 3. mounts and the clone ----------------------------------------------------
mount -t proc proc "$root/proc"; mounted="$root/proc $mounted"
mount -t sysfs sysfs "$root/sys"; mounted="$root/sys $mounted"
mount --rbind /dev "$root/dev"; mounted="$root/dev $mounted"
mount --make-rslave "$root/dev"

inside() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${CI:+CI=$CI} ${V:+V=$V} DEBIAN_FRONTEND=noninteractive "$@"
}

start=$(now)
say "installing the README's prerequisites: make"
if ! inside sh -c 'apt-get update -qq && apt-get install -y -q --no-install-recommends make' \
	>"$root/prereq.log" 2>&1; then
	tail -n 30 "$root/prereq.log" >&2
	say "installing the prerequisites failed"
	exit 1
fi
say "prerequisites installed in $(( $(now) - start )) s"

git clone -q --no-hardlinks "$top" "$root/root/afork"
say "cloned $(git -C "$root/root/afork" log -1 --format='%h %s')"

# --- 4. the commands ---------------------------------------------------------------
for cmd in "$@"; do
	say "running '$cmd'"
	start=$(now)
	set +e
	# The output goes to the terminal and to a file (for the summary line);
	# the status is the command's, not tee's.
	{ inside sh -c "cd /root/afork && $cmd" 2>&1; echo $? >"$root/rc"; } | tee -a "$out"
	set -e
	rc=$(cat "$root/rc")
	say "'$cmd' exited $rc after $(( $(now) - start )) s"
	if [ "$rc" -ne 0 ]; then
		exit "$rc"
	fi
done
exit 0
