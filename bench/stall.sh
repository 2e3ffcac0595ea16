#!/bin/sh
# SPDX-License-Identifier: MIT
# The event-loop stall bench (afork-stall-bench.c): run it, keep its CSV,
# write stall.md with the table and the verdicts of the targets.
#
#   bench/stall.sh host BIN OUTDIR [afork-stall-bench options...]
#       run BIN here: OUTDIR/stall.csv, OUTDIR/stall.md
#   bench/stall.sh payload BUILD_DIR PAYLOAD_DIR [options...]
#       lay out a guest payload (static BIN and the tiny target) whose run
#       script prints the CSV between "### afork-stall CSV BEGIN/END"
#   bench/stall.sh vm-log LOG OUTDIR
#       take that CSV from the guest's console log, then the report
#   bench/stall.sh report CSV OUTDIR
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || { sed -n '3,14p' "$0" >&2; exit 2; }
mode=$1 src=$2 out=$3
shift 3

case $mode in
host)
	mkdir -p "$out"
	load=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
		echo "stall.sh: warning: load average is $load; the tails will show it" >&2
	fi
	{
		echo "# where: host"
		echo "# kernel: $(uname -sr) $(uname -v)"
		echo "# load: $load"
		"$src" --where host "$@"
	} >"$out/stall.csv.tmp"
	mv "$out/stall.csv.tmp" "$out/stall.csv"
	;;
payload)
	"$here/../qemu/payload.sh" init "$out"
	"$here/../qemu/payload.sh" file "$out" "$src/afork-stall-bench" "$src/afork-bench-tiny"
	"$here/../qemu/payload.sh" add "$out" stall 3600 "$here/guest-csv.sh" -- \
		afork-stall - /payload/bin/afork-stall-bench --where guest "$@"
	exit 0
	;;
vm-log)
	mkdir -p "$out"
	"$here/console-section.sh" "$src" "afork-stall CSV" >"$out/stall.csv.tmp" ||
		{ rm -f "$out/stall.csv.tmp"; exit 1; }
	mv "$out/stall.csv.tmp" "$out/stall.csv"
	;;
report)
	mkdir -p "$out"
	[ "$src" -ef "$out/stall.csv" ] || cp "$src" "$out/stall.csv"
	;;
*)
	echo "stall.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

awk -f "$here/stall-report.awk" "$out/stall.csv" >"$out/stall.md"
cat "$out/stall.md"
