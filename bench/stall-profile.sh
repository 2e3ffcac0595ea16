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
#   bench/stall-profile.sh BIN OUTDIR [afork-stall-bench options...]
#
# Default options: --sizes 0,4096 --methods posix_spawn,afork_spawn
# --count 300.  Writes OUTDIR/stall-profile.{csv,ticks,md}.  Needs perf
# with the sched tracepoints (tracefs), and root or perf_event_paranoid
# that allows them.  KEEP=1 keeps the trace (OUTDIR/stall-profile.perf).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n '3,14p' "$0" >&2; exit 2; }
bin=$1 out=$2
shift 2
[ $# -gt 0 ] || set -- --sizes 0,4096 --methods posix_spawn,afork_spawn --count 300
command -v perf >/dev/null || { echo "stall-profile.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$out"
data=$out/stall-profile.perf
pidf=$out/stall-profile.pid

# The shell's pid becomes the bench's by exec: the loop is its main thread.
perf record -q -k CLOCK_MONOTONIC -a -o "$data" \
	-e sched:sched_switch -e sched:sched_waking -e sched:sched_migrate_task \
	-e cpu-clock/period=500000/ -- \
	sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$pidf" \
	"$bin" --ticks "$out/stall-profile.ticks" --out "$out/stall-profile.csv" "$@" \
	2>"$out/stall-profile.err" || { cat "$out/stall-profile.err" >&2; exit 1; }
loop=$(cat "$pidf")
{
	echo "# stall-profile.sh: $(uname -sr), $(nproc) CPUs, page $(getconf PAGESIZE) B, load $(cut -d' ' -f1 /proc/loadavg) at the end, $(date -u +%FT%TZ)"
	echo
	echo "Bench: \`afork-stall-bench $*\`"
	echo
	echo '```'
	cat "$out/stall-profile.csv"
	echo '```'
	echo
	sort -t, -k4,4n "$out/stall-profile.ticks" >"$out/stall-profile.ticks.sorted"
	perf script -i "$data" --ns -F tid,cpu,time,event,trace 2>/dev/null |
		awk -v loop="$loop" -v hz=2000 -f "$here/stall-profile.awk" "$out/stall-profile.ticks.sorted" -
} >"$out/stall-profile.md"
[ -n "${KEEP:-}" ] || rm -f "$data" "$data.old"
rm -f "$pidf" "$out/stall-profile.ticks.sorted"
[ -s "$out/stall-profile.err" ] || rm -f "$out/stall-profile.err"
cat "$out/stall-profile.md"
