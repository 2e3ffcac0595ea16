#!/bin/sh
# Configure and build the guest kernel, out of tree.
#
#   qemu/kernel.sh config  SRCDIR OUTDIR FRAGMENT
#   qemu/kernel.sh build   SRCDIR OUTDIR LOGFILE
#   qemu/kernel.sh headers SRCDIR OUTDIR DESTDIR
#
# config: tinyconfig + FRAGMENT (merge_config.sh) + olddefconfig, produced in
#         a scratch directory and copied to OUTDIR/.config only when it
#         differs, so an unchanged configuration never triggers a rebuild.
# build:  the image (bzImage) with -j$(nproc).  Kbuild's output goes to LOGFILE and a
#         progress line is printed every 30 s; V=1 in the environment streams
#         the full output instead.
# headers: `make headers_install` into DESTDIR (DESTDIR/include/...).
#
# Environment: KARCH, the kernel's ARCH (default x86_64), KIMAGE, the image
# target (default bzImage), and CROSS_COMPILE, which kbuild reads itself
# (the arm64 guest: KARCH=arm64 KIMAGE=Image CROSS_COMPILE=aarch64-linux-gnu-).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cmd=$1
src=$2
out=$3

# One user of the tree at a time: two makes building into the same O= (say
# `make run` while `make check` runs) corrupt each other's objects, and
# kernel-tree.sh must not re-patch the sources under a running build.  The
# lock is the one kernel-tree.sh takes.
mkdir -p "$out"
if [ -z "${AFORK_TREE_LOCKED:-}" ]; then
	if ! flock -n "$src.lock" true; then
		echo "==> waiting for another kernel build/patch step in this tree to finish"
	fi
	AFORK_TREE_LOCKED=1 exec flock "$src.lock" "$0" "$@"
fi
kmake() { make --no-print-directory -C "$src" ARCH="${KARCH:-x86_64}" "$@"; }
image=${KIMAGE:-bzImage}

case $cmd in
config)
	frag=$4
	scratch=$out.config-tmp
	mkdir -p "$scratch" "$out"
	log=$scratch/config.log
	{
		kmake -s O="$scratch" tinyconfig &&
		"$src/scripts/kconfig/merge_config.sh" -m -O "$scratch" \
			"$scratch/.config" "$frag" &&
		kmake -s O="$scratch" olddefconfig
	} >"$log" 2>&1 || { cat "$log" >&2; echo "kernel.sh: configuration failed" >&2; exit 1; }
	"$here/check-config.sh" "$frag" "$scratch/.config" "$src"
	if ! cmp -s "$scratch/.config" "$out/.config"; then
		cp "$scratch/.config" "$out/.config"
		echo "==> kernel configuration updated ($out/.config)"
	fi
	;;

build)
	log=$4
	mkdir -p "$(dirname "$log")"
	jobs=$(nproc)
	if [ "${V:-0}" = 1 ]; then
		kmake O="$out" -j"$jobs" V=1 "$image"
		exit
	fi
	# Kbuild prints one line per object; count them for the progress lines.
	kmake O="$out" -j"$jobs" "$image" >"$log" 2>&1 &
	pid=$!
	start=$(date +%s)
	next=$((start + 30))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		if [ "$now" -ge "$next" ]; then
			echo "    ... $((now - start)) s, $(grep -c '^  CC ' "$log" || true) files compiled"
			next=$((next + 30))
		fi
	done
	if ! wait "$pid"; then
		grep -E 'error|Error' "$log" | head -40 >&2 || true
		echo "kernel.sh: kernel build failed, full log: $log" >&2
		exit 1
	fi
	;;

headers)
	dest=$4
	# A separate O= keeps this independent of (and runnable next to) the
	# main build; headers_install needs no .config.
	mkdir -p "$out"
	kmake O="$out" -s INSTALL_HDR_PATH="$dest" headers_install
	;;

*)
	echo "usage: kernel.sh config|build|headers SRCDIR OUTDIR ARG" >&2
	exit 2
	;;
esac
