#!/bin/sh
# SPDX-License-Identifier: MIT
# The popen bench (afork-popen-bench.c): run it here, keep its CSV, and
# write popen.md with the table and the target's verdict (afork_popenve's
# call p50 <= 0.1x glibc popen's, the same run).
#
#   bench/popen.sh BIN OUTDIR [afork-popen-bench options...]
#   bench/popen.sh report CSV OUTDIR
set -eu

[ $# -ge 2 ] || { sed -n '3,9p' "$0" >&2; exit 2; }
if [ "$1" = report ]; then
	csv=$2 out=$3
	mkdir -p "$out"
	[ "$csv" -ef "$out/popen.csv" ] || cp "$csv" "$out/popen.csv"
else
	bin=$1 out=$2
	shift 2
	mkdir -p "$out"
	{
		echo "# where: host, $(uname -sr), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
		"$bin" "$@"
	} >"$out/popen.csv.tmp"
	mv "$out/popen.csv.tmp" "$out/popen.csv"
fi
awk -F, '
/^# where: / { where = substr($0, 10); next }
/^# kernel: / { where = where ", " substr($0, 11); next }
/^# afork-popen-bench: / { setup = substr($0, 22); next }
/^#/ || $1 == "size_mib" { next }
{ m[++n] = $2; be[$2] = $3; p50[$2] = $5; p90[$2] = $6; p99[$2] = $7; pc[$2] = $8; size = $1 }
END {
	printf "popen bench (%s): %s.\n\n", where, setup
	printf "Time the popen call keeps its caller, and the pclose after it, µs:\n\n"
	printf "| method | call p50 | call p90 | call p99 | pclose p50 |\n|---|---:|---:|---:|---:|\n"
	for (i = 1; i <= n; i++)
		printf "| %s%s | %s | %s | %s | %s |\n", m[i], (be[m[i]] != "-" ? " (" be[m[i]] ")" : ""),
			p50[m[i]], p90[m[i]], p99[m[i]], pc[m[i]]
	r = p50["popen"] > 0 ? p50["afork_popenve"] / p50["popen"] : -1
	printf "\nTarget: afork_popenve call ≤ 0.1× glibc popen (p50, same run, %s MiB parent): %.3f, %s.\n",
		size, r, (r >= 0 && r <= 0.1 ? "met" : "missed")
	if (p50["afork_popen"] > 0)
		printf "afork_popen against glibc popen: %.3f.\n", p50["afork_popen"] / p50["popen"]
	if (p50["floor"] > 0)
		printf "The floor (a pipe, a stdio stream and afork_start() with a pidfd of a child that dup2s and execs; no shield, no bookkeeping) against glibc popen: %.3f; afork_popenve is %.2f× the floor.\n",
			p50["floor"] / p50["popen"], p50["afork_popenve"] / p50["floor"]
}' "$out/popen.csv" >"$out/popen.md"
cat "$out/popen.md"
