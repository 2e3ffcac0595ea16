# SPDX-License-Identifier: MIT
# stall.csv (afork-stall-bench) to markdown: the table, then the targets.
BEGIN { FS = "," }
/^# where: / { where = substr($0, 10); next }
/^# kernel: / { kernel = substr($0, 11); next }
/^# load: / { load = substr($0, 9); next }
/^# afork-stall-bench: / { setup = substr($0, 22); next }
/^#/ || $1 == "where" { next }
{
	size = $2; m = $3
	if (!(size in seen_size)) { seen_size[size] = 1; sizes[++ns] = size }
	if (!(m in seen_m)) { seen_m[m] = 1; methods[++nm] = m }
	be[m] = $4; fail[m, size] = $6
	lp99[m, size] = $9; sp99[m, size] = $12; smax[m, size] = $13
	busy[m, size] = $15; wake[m, size] = $16; wp99[m, size] = $17
}
# A table's head: per size, @cols columns titled "SIZE" @title.
function head(title, cols,   i, k) {
	printf "| method |"
	for (i = 1; i <= ns; i++) printf " %s%s", gib(sizes[i]), title
	printf "\n|---|"
	for (i = 1; i <= ns; i++) for (k = 0; k < cols; k++) printf "---:|"
	printf "\n"
}
function gib(s) { return s % 1024 == 0 && s ? s / 1024 " GiB" : s " MiB" }
function ratio(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "n/a" }
function verdict(x, lim) { return x != "n/a" && x + 0 <= lim ? "met" : "missed" }
END {
	printf "Event-loop stall (%s; %s%s): %s.\n\n", where, kernel,
		load != "" ? "; load average " load : "", setup
	printf "Stall: how late the loop came to a 1 ms timer tick (p99 over turns / worst);\n"
	printf "per launch: the p99 over launches of the worst stall in the turns up to\n"
	printf "the next launch; launch: the launching call's p99. Microseconds.\n\n"
	head(" stall p99 / worst | per launch p99 | launch p99 |", 3)
	for (j = 1; j <= nm; j++) {
		m = methods[j]
		printf "| %s%s |", m, be[m] != "-" ? " (" be[m] ")" : ""
		for (i = 1; i <= ns; i++) {
			s = sizes[i]
			printf " %s / %s | %s | %s |", sp99[m, s], smax[m, s], wp99[m, s], lp99[m, s]
			if (fail[m, s] + 0) failed = failed " " m "@" s
		}
		printf "\n"
	}
	lo = sizes[1]; hi = sizes[ns]
	a = "afork_spawn"
	printf "\nTargets (p99 stall, the same run):\n\n| target | measured | verdict |\n|---|---:|---|\n"
	r = ratio(sp99[a, hi], sp99["posix_spawn", hi])
	printf "| afork_spawn at %s ≤ 0.1× posix_spawn | %s | %s |\n", gib(hi), r, verdict(r, 0.1)
	r = ratio(sp99[a, hi], sp99["fork", hi])
	printf "| afork_spawn at %s ≤ 0.01× fork | %s | %s |\n", gib(hi), r, verdict(r, 0.01)
	r = ratio(sp99[a, hi], sp99[a, lo])
	printf "| afork_spawn flat: %s ≤ 1.2× %s | %s | %s |\n", gib(hi), gib(lo), r, verdict(r, 1.2)
	if ("uring" in seen_m) {
		r = ratio(sp99["uring", hi], sp99["posix_spawn", hi])
		printf "| uring path at %s ≤ 0.1× posix_spawn (not a target; for reference) | %s | %s |\n", gib(hi), r, verdict(r, 0.1)
	}
	r = ratio(wp99[a, hi], wp99["posix_spawn", hi])
	printf "| per launch (not a target; fair to long-lived children): afork_spawn at %s vs posix_spawn | %s | %s |\n", gib(hi), r, verdict(r, 0.1)
	r = ratio(wp99[a, hi], wp99["fork", hi])
	printf "| per launch (not a target): afork_spawn at %s vs fork | %s | %s |\n", gib(hi), r, verdict(r, 0.01)
	printf "\nThe turns at or above the p99 stall, split (mean µs): busy, the loop still\n"
	printf "at its own work when the tick fell due; waiting, the kernel woke it late\n"
	printf "(bench/stall-profile.sh names what ran instead).\n\n"
	head(" busy / waiting |", 1)
	for (j = 1; j <= nm; j++) {
		m = methods[j]
		printf "| %s |", m
		for (i = 1; i <= ns; i++) printf " %s / %s |", busy[m, sizes[i]], wake[m, sizes[i]]
		printf "\n"
	}
	if (failed != "") printf "\nFailed children in:%s\n", failed
}
