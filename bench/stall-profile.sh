#!/bin/sh
# SPDX-License-Identifier: MIT
# Where do the event loop's tail stalls come from?  Run afork-stall-bench
# under a scheduler trace (perf: switches, wakeups, migrations, and a
# cpu-clock sample every 0.5 ms on each CPU; CLOCK_MONOTONIC like the
# bench's own clock), have the bench write its tail turns (--ticks), and
# split each tail stall into the loop's own work, the timer's wakeup, the
# wait for a CPU and the time on one, naming what ran instead
# (bench/stall-profile.awk).
#
#   bench/stall-profile.sh host BIN OUTDIR [afork-stall-bench options...]
#       run BIN here under perf: OUTDIR/stall-profile.{csv,ticks,md}
#   bench/stall-profile.sh payload BUILD_DIR PAYLOAD_DIR [options...]
#       a guest payload: the static bench, the host's perf (qemu/carry.sh)
#       and this script, whose "guest" mode does the same there (busybox
#       awk reads the trace) and prints the three files on the console
#       between "### stall-profile MD|CSV|TICKS BEGIN/END" lines
#   bench/stall-profile.sh vm-log LOG OUTDIR
#       take those files from the guest's console log
#
# Default options: --sizes 0,4096 --methods posix_spawn,afork_spawn
# --count 300.  Needs perf with the sched tracepoints (tracefs), and root
# or perf_event_paranoid that allows them.  KEEP=1 keeps the trace
# (OUTDIR/stall-profile.perf).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '3,23p' "$0" >&2; exit 2; }
mode=$1 src=$2 out=$3
shift 3
sections="MD CSV TICKS"

# record BIN OUTDIR [options]: the bench under perf; the loop's pid in
# OUTDIR/stall-profile.pid, perf's data in OUTDIR/stall-profile.perf.
record() {
	bin=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	echo "afork-stall-bench $*" >"$dir/stall-profile.args"
	# The shell's pid becomes the bench's by exec: the loop is its main thread.
	perf record -q -k CLOCK_MONOTONIC -a -o "$dir/stall-profile.perf" \
		-e sched:sched_switch -e sched:sched_waking -e sched:sched_migrate_task \
		-e cpu-clock/period=500000/ -- \
		sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$dir/stall-profile.pid" \
		"$bin" --ticks "$dir/stall-profile.ticks" --out "$dir/stall-profile.csv" "$@" \
		2>"$dir/stall-profile.err" || { cat "$dir/stall-profile.err" >&2; exit 1; }
	perf script -i "$dir/stall-profile.perf" --ns -F tid,cpu,time,event,trace \
		>"$dir/stall-profile.trace" 2>/dev/null
	echo "$(uname -sr), $(nproc) CPUs, page $(getconf PAGESIZE 2>/dev/null || echo 4096) B, load $(cut -d' ' -f1 /proc/loadavg) at the end, $(date -u +%FT%TZ)" \
		>"$dir/stall-profile.where"
}

# report OUTDIR: stall-profile.md from what record left there.
report() {
	dir=$1
	{
		echo "# stall-profile.sh: $(cat "$dir/stall-profile.where")"
		echo
		echo "Bench: \`$(cat "$dir/stall-profile.args")\`"
		echo
		echo '```'
		cat "$dir/stall-profile.csv"
		echo '```'
		echo
		sort -t, -k4,4n "$dir/stall-profile.ticks" >"$dir/stall-profile.ticks.sorted"
		awk -v loop="$(cat "$dir/stall-profile.pid")" -v hz=2000 -f "$here/stall-profile.awk" \
			"$dir/stall-profile.ticks.sorted" "$dir/stall-profile.trace"
	} >"$dir/stall-profile.md"
	[ -n "${KEEP:-}" ] || rm -f "$dir/stall-profile.perf" "$dir/stall-profile.perf.old" \
		"$dir/stall-profile.trace"
	rm -f "$dir/stall-profile.ticks.sorted" "$dir/stall-profile.pid" \
		"$dir/stall-profile.args" "$dir/stall-profile.where"
	[ -s "$dir/stall-profile.err" ] || rm -f "$dir/stall-profile.err"
}

defaults="--sizes 0,4096 --methods posix_spawn,afork_spawn --count 300"

case $mode in
host)
	command -v perf >/dev/null || { echo "stall-profile.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
	# shellcheck disable=SC2086  # the defaults are words
	[ $# -gt 0 ] || set -- $defaults
	record "$src" "$out" "$@"
	report "$out"
	cat "$out/stall-profile.md"
	;;
payload)
	perf=$(command -v perf) || { echo "stall-profile.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
	"$here/../qemu/payload.sh" init "$out"
	"$here/../qemu/payload.sh" file "$out" "$src/afork-stall-bench" "$src/afork-bench-tiny" \
		"$0" "$here/stall-profile.awk"
	"$here/../qemu/carry.sh" "$perf" "$out/perf"
	# shellcheck disable=SC2016  # $PATH is the guest's
	"$here/../qemu/payload.sh" cmd "$out" stall-profile 7200 \
		'PATH=/payload/perf/bin:$PATH' -- \
		/payload/bin/stall-profile.sh guest /payload/bin/afork-stall-bench /tmp/sp "$@"
	;;
guest)
	# tracefs for perf's tracepoints (the bench kernel has them).
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
	# shellcheck disable=SC2086  # the defaults are words
	[ $# -gt 0 ] || set -- $defaults
	record "$src" "$out" --where guest "$@"
	report "$out"
	for s in $sections; do
		echo "### stall-profile $s BEGIN"
		cat "$out/stall-profile.$(echo "$s" | tr 'A-Z' 'a-z')"
		echo "### stall-profile $s END"
	done
	;;
vm-log)
	mkdir -p "$out"
	for s in $sections; do
		"$here/console-section.sh" "$src" "stall-profile $s" \
			>"$out/stall-profile.$(echo "$s" | tr 'A-Z' 'a-z')"
	done
	cat "$out/stall-profile.md"
	;;
*)
	sed -n '3,23p' "$0" >&2
	exit 2
	;;
esac
