#!/bin/sh
# SPDX-License-Identifier: MIT
# The guest target: every afork method on the syscall backend
# at most 0.85x the same method on clone3, as the median over several
# guest runs with the spread.  Reads the runs' CSVs (afork-bench), prints
# a markdown table: per method and parent size, the syscall/clone3 ratio
# of the median blocked time in each run, then median (min-max).
#
#   bench/guest-ratios.sh RUN1.csv RUN2.csv RUN3.csv ...
set -eu
[ $# -ge 1 ] || { sed -n '3,9p' "$0" >&2; exit 2; }
awk -F, '
	/^#/ || $1 == "where" { next }
	$6 == "static" {
		m = $7
		if (m !~ /_(syscall|clone3)$/) next
		base = m; sub(/_(syscall|clone3)$/, "", base)
		be = m ~ /_syscall$/ ? "s" : "c"
		v[FILENAME, base, $3, be] = $10
		if (!((base, $3) in seen)) { seen[base, $3] = 1; keys[++nk] = base SUBSEP $3 }
		if (!(FILENAME in fs)) { fs[FILENAME] = 1; files[++nf] = FILENAME }
	}
	function sort(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	}
	END {
		printf "| method | parent MiB |"
		for (f = 1; f <= nf; f++) printf " run %d |", f
		printf " median (min-max) | target 0.85 |\n|---|---:|"
		for (f = 1; f <= nf; f++) printf "---:|"
		printf "---:|---|\n"
		for (k = 1; k <= nk; k++) {
			split(keys[k], kk, SUBSEP)
			n = 0
			line = sprintf("| %s | %s |", kk[1], kk[2])
			for (f = 1; f <= nf; f++) {
				s = v[files[f], kk[1], kk[2], "s"]; c = v[files[f], kk[1], kk[2], "c"]
				if (s == "" || c == "" || c + 0 == 0) { line = line " - |"; continue }
				r[++n] = s / c
				line = line sprintf(" %.2f |", s / c)
			}
			if (!n)
				continue	# measured on one backend only
			sort(r, n)
			med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
			printf "%s %.2f (%.2f-%.2f) | %s |\n", line, med, r[1], r[n], med <= 0.85 ? "met" : "missed"
			delete r
		}
	}' "$@"
