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
# 2. The host's apt sources, settings and keys are copied in when the host
#    runs Debian 12 too, else the root gets deb.debian.org's bookworm (that
#    is the "access to the Debian archive" the README asks for); then the
#    README's prerequisites and nothing else are installed: make.
# 3. `git clone` puts HEAD of this repository at /root/afork; uncommitted
#    changes are not taken.
# 4. The commands run in new mount and PID namespaces (unshare), where
#    /proc, /sys and /dev are mounted inside the root.  Each CMD runs there
#    as root, in order, through `sh -c` in /root/afork, with a minimal
#    environment (CI and V are passed on); the first failure stops the run.
#    When the namespaces' first process ends, the kernel kills every
#    process left in them and drops their mounts: nothing a command starts
#    or mounts can outlive the run, or hold its output open.  SIGINT,
#    SIGTERM and SIGHUP end the run at once the same way.
# 5. build/logs/ of the clone is copied to build/logs/clean-room/ (only
#    when it really is inside the root: not through a symlink), and the root
#    is deleted (kept with --keep; its path is printed).  A root with
#    anything still mounted under it is never deleted, and fails the run.
#
# The exit status is that of the first failing CMD, or 0.  When the last
# command printed a summary line ("afork: N passed, ..."), it is printed
# again as the very last line.
#
# Environment: AFORK_CLEAN_ROOM_DIR (where roots are made, default
# /var/tmp), AFORK_CLEAN_ROOM_CACHE (default /var/cache/afork-clean-room).
set -eu

suite=bookworm
debian=http://deb.debian.org/debian

# --- inside the namespaces: mounts, then the commands -----------------------
# scripts/clean-room.sh --inner ROOT CMD...   (PID 1 of a new PID namespace)
if [ "${1:-}" = --inner ]; then
	root=$2
	shift 2
	mount --make-rprivate /
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	for cmd in "$@"; do
		echo "clean-room: running '$cmd'"
		start=$(date +%s)
		rc=0
		chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			${CI:+CI=$CI} ${V:+V=$V} DEBIAN_FRONTEND=noninteractive \
			sh -c "cd /root/afork && $cmd" </dev/null || rc=$?
		echo "clean-room: '$cmd' exited $rc after $(( $(date +%s) - start )) s"
		[ "$rc" -eq 0 ] || exit "$rc"
	done
	exit 0
fi

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
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
command -v unshare >/dev/null 2>&1 || need="$need util-linux"
if [ -n "$need" ]; then
	say "installing on the host:$need"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp)
	# shellcheck disable=SC2086
	{ apt-get update -qq && apt-get install -y -q --no-install-recommends $need; } \
		>"$aptlog" 2>&1 ||
		{ cat "$aptlog" >&2; rm -f "$aptlog"; say "apt-get failed"; exit 1; }
	rm -f "$aptlog"
fi

# Debian 12 hosts lend their apt setup (mirror, proxies, keys) to the root.
host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
mirror=$debian
if [ "$host_suite" = "$suite" ]; then
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
	    sed -n -e 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' \
		   -e 's/^deb  *\(\[[^]]*\]  *\)*\([^ ]*\/debian\)\/*  *.*/\2/p' | head -n 1)
	[ -z "$m" ] || mirror=$m
fi

# --- the root, and its cleanup ----------------------------------------------------
base=${AFORK_CLEAN_ROOM_DIR:-/var/tmp}
mkdir -p "$base"
base=$(realpath "$base")
case $base in *[[:space:]\\]*)
	say "the root's folder '$base' must not contain blanks or backslashes"
	exit 2 ;;
esac
root=$(mktemp -d "$base/afork-clean-room.XXXXXX")
out=$root.out
: >"$out"
pidfile=$root.pid
rcfile=$root.rc
teepid=

# still_mounted: true when anything is mounted at or below the root.
still_mounted() {
	awk -v r="$root" '$2 == r || index($2, r "/") == 1 { found = 1 }
		END { exit !found }' /proc/self/mounts
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	# unshare: killing it ends everything in the namespaces.
	if [ -s "$pidfile" ]; then
		kill -9 "$(cat "$pidfile")" 2>/dev/null || true
		[ -z "$teepid" ] || wait "$teepid" 2>/dev/null || true
	fi
	rm -f "$pidfile" "$rcfile"
	logs=$(realpath -e "$root/root/afork/build/logs" 2>/dev/null || true)
	rm -rf "$top/build/logs/clean-room"
	case $logs in
	"$root"/*)
		mkdir -p "$top/build/logs/clean-room"
		cp -a "$logs/." "$top/build/logs/clean-room/" 2>/dev/null || true
		say "logs copied to build/logs/clean-room/" ;;
	"") ;;
	*)	say "WARNING: build/logs points out of the root ($logs); not copied" ;;
	esac
	if still_mounted; then
		say "ERROR: something is still mounted under $root; not deleting it"
		[ "$rc" -ne 0 ] || rc=1
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
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- 1. debootstrap, or the cached pristine root -----------------------------------
cache=${AFORK_CLEAN_ROOM_CACHE:-/var/cache/afork-clean-room}
mkdir -p "$cache"
tarball=$cache/$suite-minbase-$(date -u +%Y%m%d).tar
start=$(now)
# One maker of the day's tarball at a time; the others wait and use it.
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$tarball" ]; then
	say "debootstrap --variant=minbase $suite from $mirror (about 80 s)"
	if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" \
		>"$root.debootstrap.log" 2>&1; then
		tail -n 30 "$root.debootstrap.log" >&2
		rm -f "$root.debootstrap.log"
		say "debootstrap failed"
		exit 1
	fi
	rm -f "$root.debootstrap.log"
	rm -f "$cache/$suite"-minbase-*.tar
	tmp=$(mktemp "$tarball.XXXXXX")
	tar -cf "$tmp" -C "$root" . && mv "$tmp" "$tarball"
else
	say "pristine $suite minbase root from the cache ($tarball)"
	tar -xf "$tarball" -C "$root"
fi
exec 9>&-
# mktemp made the folder 0700 (and the tarball keeps that): as the root of
# a system it must be 0755, or no other user can reach any file in it.
chmod 0755 "$root"
say "root ready in $(( $(now) - start )) s: $root"

# --- 2. access to the archive, and the README's prerequisites --------------------
if [ "$host_suite" = "$suite" ]; then
	rm -f "$root/etc/apt/sources.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		 /etc/apt/sources.list.d/*.list /etc/apt/apt.conf.d/* \
		 /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d/* /etc/apt/keyrings/*; do
		[ -f "$f" ] || continue
		mkdir -p "$root$(dirname "$f")"
		cp "$f" "$root$f"
	done
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

start=$(now)
say "installing the README's prerequisites: make"
if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive sh -c \
	'apt-get update -qq && apt-get install -y -q --no-install-recommends make' \
	>"$root.prereq.log" 2>&1 </dev/null; then
	tail -n 30 "$root.prereq.log" >&2
	rm -f "$root.prereq.log"
	say "installing the prerequisites failed"
	exit 1
fi
rm -f "$root.prereq.log"
say "prerequisites installed in $(( $(now) - start )) s"

# --- 3. the clone ----------------------------------------------------------------------
# safe.directory: root cloning a checkout that another user owns.
git -c safe.directory='*' clone -q --no-hardlinks "$top" "$root/root/afork"
say "cloned $(git -C "$root/root/afork" log -1 --format='%h %s')"

# --- 4. the commands, in their own namespaces ---------------------------------------
# In the background with a wait, so that a signal is handled at once.  The
# output goes to the terminal and to a file (for the summary line).
# unshare's pid is kept: killing it kills its child (--kill-child), the
# PID namespace's first process, and with it everything in the namespace.
{ unshare --mount --pid --fork --kill-child=KILL "$self" --inner "$root" "$@" 2>&1 &
  echo $! >"$pidfile"
  st=0
  wait $! || st=$?
  echo "$st" >"$rcfile"; } | tee -a "$out" &
teepid=$!
wait "$teepid" || true
rc=$(cat "$rcfile" 2>/dev/null || echo 1)
rm -f "$rcfile" "$pidfile"
exit "$rc"
