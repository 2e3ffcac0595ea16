#!/bin/sh
# SPDX-License-Identifier: MIT
# Where does a method's time go?  For each method named, run afork-bench on
# that method alone (plus raw_clone_vm, the floor, interleaved with it) and
#   - sample the whole machine with perf (cpu-clock: no hardware counters
#     needed, so it works in VMs), reporting the afork-bench processes' top
#     symbols, user and kernel, split into the latency and throughput runs;
#   - list the system calls the calling thread makes per spawn, from strace
#     (one steady-state spawn after the warm-up).
#
#   bench/profile.sh BIN OUTDIR METHOD...      e.g. afork_clone3 afork_spawn_clone3
#
# Environment: SIZE (MiB, default 0), TARGET (static or true, default
# static), ITERS (default 3000), ROUNDS (throughput rounds, default 20).
set -eu

bin=$1 out=$2
shift 2
size=${SIZE:-0} target=${TARGET:-static} iters=${ITERS:-3000} rounds=${ROUNDS:-20}
mkdir -p "$out"
command -v perf >/dev/null || { echo "profile.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
command -v strace >/dev/null || { echo "profile.sh: strace not found" >&2; exit 1; }

common="--sizes $size --thp-sizes none --busy none --targets $target"

for m in "$@"; do
	f=$out/$m.txt
	echo "==> $m ($f)"
	{
		echo "# profile.sh: $m vs raw_clone_vm, parent $size MiB, exec $target, $(uname -r), $(date -u +%FT%TZ)"
		for phase in latency throughput; do
			if [ $phase = latency ]; then
				args="--iters $iters --min-iters $iters --tput-rounds 1 --tput-n 1 --inflight 1"
			else
				args="--iters 10 --min-iters 10 --tput-rounds $rounds --tput-budget 1000"
			fi
			perf record -q -e cpu-clock -F 10000 -a -g -o "$out/perf.data" -- \
				"$bin" $common --methods "raw_clone_vm,$m" $args --out "$out/$m.$phase.csv" 2>/dev/null
			echo
			echo "## $phase: results"
			grep -v '^#' "$out/$m.$phase.csv" | cut -d, -f7,9,10,11,13,17
			echo
			echo "## $phase: top symbols in afork-bench processes (self time, % of their samples; the children until exec count here)"
			perf report -i "$out/perf.data" --comm afork-bench --no-children \
				--sort dso,sym --stdio -g none --percentage relative --percent-limit 1 2>/dev/null |
				grep -E '^ +[0-9]' | head -40
		done
		echo
		echo "## system calls of the calling thread for one spawn + reap (steady state)"
		rm -f "$out"/st.*
		strace -ff -qq -o "$out/st" -e 'trace=!execve,exit_group' \
			"$bin" $common --methods "$m" --iters 12 --min-iters 12 --tput-rounds 1 \
			--tput-n 1 --inflight 1 --out /dev/null 2>/dev/null || true
		# The worker running $m: the base one opens /dev/null for the file
		# actions, as every worker does; take the one whose spawns we see.
		for w in $(grep -l 'openat(AT_FDCWD, "/dev/null", O_WRONLY' "$out"/st.*); do
			# Commands are 20-byte reads; print what the 10th one led to.
			awk '/^read\(.*= 20$/ { n++; next } /^write\(/ && n == 10 { exit } n == 10' "$w" \
				>"$out/st.sel"
			grep -q -E '^(clone|clone3|vfork|wait4)\(' "$out/st.sel" && break
		done
		cut -c1-160 "$out/st.sel"
		rm -f "$out"/st.*
	} >"$f"
	rm -f "$out/perf.data" "$out/perf.data.old"
	cat "$f"
done
