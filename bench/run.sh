#!/bin/sh
# SPDX-License-Identifier: MIT
# Drive afork-bench and turn its CSV into results.md and PNG plots.
#
#   bench/run.sh host BIN OUTDIR [afork-bench options...]
#       run BIN on this machine: OUTDIR/results.csv, then the report
#       (BENCH_WAIT_QUIET=SECONDS: first wait that long for load < 0.5)
#   bench/run.sh vm-log LOG OUTDIR
#       take the CSV the guest printed between "### afork-bench CSV BEGIN"
#       and "### afork-bench CSV END" on its console (LOG), then the report
#   bench/run.sh report CSV OUTDIR
#       only the report: OUTDIR/results.md, OUTDIR/*.png
#
# The report is printed too.  Plots need gnuplot; without it they are
# skipped with a warning.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '3,15p' "$0" >&2; exit 2; }
mode=$1 src=$2 out=$3
shift 3
mkdir -p "$out"

case $mode in
host)
	# A benchmark on a busy machine measures the other load: wait a while
	# for it to go (BENCH_WAIT_QUIET seconds, default 0), then say so.
	waited=0
	while [ "$waited" -lt "${BENCH_WAIT_QUIET:-0}" ] &&
	      awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l > 0.5) }'; do
		[ "$waited" -gt 0 ] || echo "run.sh: waiting up to ${BENCH_WAIT_QUIET}s for a quiet machine" >&2
		sleep 15
		waited=$((waited + 15))
	done
	load=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
		echo "run.sh: warning: load average is $load; timings will be noisy" >&2
	fi
	"$src" --where host --out "$out/results.csv.tmp" "$@"
	mv "$out/results.csv.tmp" "$out/results.csv"
	;;
vm-log)
	"$here/console-section.sh" "$src" "afork-bench CSV" >"$out/results.csv.tmp" ||
		{ rm -f "$out/results.csv.tmp"; exit 1; }
	mv "$out/results.csv.tmp" "$out/results.csv"
	;;
report)
	[ "$src" -ef "$out/results.csv" ] || cp "$src" "$out/results.csv"
	;;
*)
	echo "run.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

csv=$out/results.csv
# Every data line must have the header's fields; a mangled line means a broken run.
bad=$(awk -F, '/^#/ { next } !nf { nf = NF; next } NF != nf { n++ } END { print n + 0 }' "$csv")
[ "$bad" -eq 0 ] || { echo "run.sh: $csv: $bad malformed line(s)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -f "$here/report.awk" -v plotdir="$tmp" "$csv" >"$out/results.md"

where=$(sed -n 's/^# where: //p' "$csv")
rm -f "$out"/*.png
if command -v gnuplot >/dev/null 2>&1; then
	for dat in "$tmp"/*.dat; do
		t=$(basename "$dat" .dat)
		for what in blocked throughput; do
			case $what in
			blocked) ttl="Calling thread blocked per spawn, median ($where, exec $t)" ;;
			*) ttl="Throughput, children in flight ($where, exec $t)" ;;
			esac
			gnuplot -e "dat='$dat'; n=$(cat "$tmp/$t.n"); xt='$(cat "$tmp/$t.xtics")'; what='$what'; out='$out/$what-$t.png'; ttl='$ttl'" \
				"$here/plot.gp"
		done
	done
	{
		echo "Plots: "
		for p in "$out"/*.png; do
			printf '[%s](%s) ' "$(basename "$p" .png)" "$(basename "$p")"
		done
		echo
	} >>"$out/results.md"
else
	echo "run.sh: gnuplot not found: no plots (apt-get install gnuplot-nox)" >&2
fi

cat "$out/results.md"
echo "==> $out: results.csv, results.md$(ls "$out"/*.png >/dev/null 2>&1 && echo ', *.png')"
