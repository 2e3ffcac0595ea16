#!/bin/sh
# SPDX-License-Identifier: MIT
# What a user would pick instead of afork_spawn: the blocked
# time of Rust's std::process::Command::spawn and CPython's
# subprocess.Popen from a parent holding MIB MiB, beside afork_spawn and
# glibc's posix_spawn in C, and each runtime again under libafork-preload
# (synchronous, then AFORK_PRELOAD_ASYNC=1).  Rounds interleave the
# configurations; the table gives the median over rounds of each run's
# p50 and p99.
#
#   bench/runtimes.sh BUILD_DIR AFORK_LIB PRELOAD_SO TINY OUTDIR
#
# Environment: MIB (1024), N (spawns per run, 200), ROUNDS (3).  Without
# rustc or python3 their rows are skipped, and the table says so.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
[ $# -eq 5 ] || { sed -n '3,15p' "$0" >&2; exit 2; }
mkdir -p "$1" "$5"
build=$(cd "$1" && pwd) lib=$2 preload=$3 tiny=$4 out=$5
mib=${MIB:-1024} n=${N:-200} rounds=${ROUNDS:-3}

cc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$top/lib/include" -o "$build/spawn_c" \
	"$here/runtimes/spawn_c.c" "$lib/libafork.a" -pthread -Wl,-z,now
have_rust=0 have_py=0
if command -v rustc >/dev/null 2>&1; then
	rustc -O --edition 2021 -o "$build/spawn_rust" "$here/runtimes/spawn.rs" && have_rust=1
fi
command -v python3 >/dev/null 2>&1 && have_py=1

# Configurations: name|command (run through sh -c, with $T $N $M).
cfgs=$build/configs
{
	echo "C afork_spawn|$build/spawn_c afork_spawn \$T \$N \$M"
	echo "C posix_spawn (glibc)|$build/spawn_c posix_spawn \$T \$N \$M"
	if [ $have_rust = 1 ]; then
		echo "Rust Command::spawn|$build/spawn_rust \$T \$N \$M"
		echo "Rust, preload|LD_PRELOAD=$preload AFORK_PRELOAD_STATS=$build/stats.rust $build/spawn_rust \$T \$N \$M"
		echo "Rust, preload async|LD_PRELOAD=$preload AFORK_PRELOAD_ASYNC=1 $build/spawn_rust \$T \$N \$M"
	fi
	if [ $have_py = 1 ]; then
		echo "Python subprocess.Popen|python3 $here/runtimes/spawn.py \$T \$N \$M"
		echo "Python, preload|LD_PRELOAD=$preload AFORK_PRELOAD_STATS=$build/stats.py python3 $here/runtimes/spawn.py \$T \$N \$M"
		echo "Python, preload async|LD_PRELOAD=$preload AFORK_PRELOAD_ASYNC=1 python3 $here/runtimes/spawn.py \$T \$N \$M"
	fi
} >"$cfgs"

rm -f "$build"/stats.* "$build/samples"
r=0
while [ $r -lt "$rounds" ]; do
	while IFS='|' read -r name cmd; do
		res=$(T=$tiny N=$n M=$mib sh -c "$cmd") || { echo "runtimes.sh: $name failed" >&2; exit 1; }
		echo "$name|$res" >>"$build/samples"
	done <"$cfgs"
	r=$((r + 1))
done

{
	echo "Blocked time of one spawn call, parent holding $mib MiB (4 KiB pages), exec target a tiny static binary;"
	echo "$n spawns per run, median over $rounds interleaved runs of each run's p50 and p99"
	echo "($(uname -sr), $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end)."
	echo
	echo "| caller | p50 µs | p99 µs |"
	echo "|---|---:|---:|"
	awk -F'|' '{ split($2, x, " "); k = $1; if (!(k in c)) o[++m] = k
		     c[k]++; p50[k, c[k]] = x[1]; p99[k, c[k]] = x[3] }
	     function med(a, k, n,   i, j, t, v) {
		for (i = 1; i <= n; i++) v[i] = a[k, i] + 0
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return v[int((n + 1) / 2)] }
	     END { for (i = 1; i <= m; i++) { k = o[i]
		     printf "| %s | %.0f | %.0f |\n", k, med(p50, k, c[k]), med(p99, k, c[k]) } }' "$build/samples"
	[ $have_rust = 1 ] || echo "| Rust | skipped: no rustc | |"
	[ $have_py = 1 ] || echo "| Python | skipped: no python3 | |"
	echo
	for s in rust py; do
		if [ -r "$build/stats.$s" ]; then
			echo "Preload statistics ($s): \`$(tail -n 1 "$build/stats.$s")\`"
		elif [ -e "$build/configs" ] && grep -q "stats.$s" "$build/configs"; then
			echo "Preload statistics ($s): none: no call went through the preload."
		fi
		echo
	done
} >"$out/runtimes.md"
cat "$out/runtimes.md"
