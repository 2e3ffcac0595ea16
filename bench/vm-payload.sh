#!/bin/sh
# SPDX-License-Identifier: MIT
# Lay out the guest payload of make vm-bench.
#
#   bench/vm-payload.sh BUILD_DIR PAYLOAD_DIR [afork-bench options...]
#
# BUILD_DIR holds the static afork-bench, afork-bench-tiny and
# afork-popen-bench.  The
# payload (qemu/payload.sh) runs the benchmark with the guest's defaults
# (below; options given here are appended and win, each one word) and
# prints the CSV on the console between "### afork-bench CSV BEGIN" and
# "### afork-bench CSV END" (bench/guest-csv.sh), which bench/run.sh
# vm-log reads back from the console log.
#
# Guest defaults: the guest has 3 GiB (VM_MEM in bench/Makefile) and one
# worker per backend holds the parent's memory, so the sizes stop at
# 256 MiB.  The kernel is the bench flavour of qemu/ (guest.config without
# KASAN, lockdep or atomic-sleep checks, which would multiply the cost of
# every clone and page fault and hide a system call saved), but TCG still
# runs it some 10-100 times slower than the host: fewer samples, one exec
# target (the static one: /bin/true is busybox there), no busy-thread row;
# the methods the guest target compares (the syscall against the clone
# backends) get 300 interleaved samples each.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
payload=$here/../qemu/payload.sh

build=$1 dest=$2
shift 2

if readelf -l "$build/afork-bench" 2>/dev/null | grep -q INTERP; then
	echo "vm-payload: $build/afork-bench is not static" >&2
	exit 1
fi
"$payload" init "$dest"
"$payload" file "$dest" "$build/afork-bench" "$build/afork-bench-tiny"
"$payload" add "$dest" bench 1400 "$here/guest-csv.sh" -- \
	afork-bench /tmp/afork-bench.csv \
	/payload/bin/afork-bench --where guest --out /tmp/afork-bench.csv \
	--sizes 0,64,256 --busy none --targets static \
	--iters 30 --min-iters 10 --lat-budget 4 \
	--tput-n 64 --tput-rounds 1 --tput-budget 4 \
	--focus raw_clone_vm,afork_syscall,afork_clone3,afork_clone_legacy,afork_poll_syscall,afork_poll_clone3,afork_spawn_syscall,afork_spawn_clone3 \
	--focus-iters 300 "$@"
# The popen bench beside it (afork-popen-bench: glibc popen, afork_popen,
# afork_popenve from a 1 GiB parent; /bin/true is busybox here).
"$payload" file "$dest" "$build/afork-popen-bench"
"$payload" add "$dest" popen 1200 "$here/guest-csv.sh" -- \
	afork-popen - /payload/bin/afork-popen-bench --iters 200
echo "==> guest payload: ${dest}"
