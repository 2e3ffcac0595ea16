# SPDX-License-Identifier: MIT
#
# afork-bench CSV -> markdown tables, target ratios, gnuplot data.
#
#   awk -F, -v outdir=DIR -v plotdir=DIR -f bench/report.awk results.csv
#
# Writes the markdown on stdout and, for each exec target T,
# plotdir/T.dat (one block per method: size x, blocked p50/p90/p99 in us,
# throughput in spawns/s, separated by two blank lines, each block starting
# with a line holding the method's name for gnuplot's columnheader) and
# plotdir/T.xtics (gnuplot's set xtics argument).  Rows with THP on or busy
# threads are in the tables but not on the size axis of the plots.

function fmt(v,    s, neg, out) {
	if (v == "" || v == "-")
		return "–"
	v += 0
	if (v < 10)
		return sprintf("%.1f", v)
	s = sprintf("%.0f", v)
	out = ""
	while (length(s) > 3) {
		out = "," substr(s, length(s) - 2) out
		s = substr(s, 1, length(s) - 3)
	}
	return s out
}

function rank(m) {
	if (m == "fork") return 1
	if (m == "vfork") return 2
	if (m == "posix_spawn") return 3
	if (m == "raw_clone_vm") return 4
	if (m == "afork_syscall") return 5
	if (m == "afork_clone3") return 6
	if (m == "afork_clone_legacy") return 7
	if (m == "afork_vfork") return 8
	if (m == "posix_spawn_3fa") return 9
	if (m ~ /^afork_spawn_3fa/) return 10
	if (m == "afork_spawn_syscall") return 8.1
	if (m == "afork_spawn_clone3") return 8.2
	if (m == "afork_spawn_clone_legacy") return 8.3
	if (m == "afork_spawn_vfork") return 8.4
	if (m ~ /^afork_spawn/) return 8.5
	if (m == "afork_poll_syscall") return 12
	if (m == "afork_poll_clone3") return 13
	if (m == "afork_poll_clone_legacy") return 14
	if (m == "afork_poll_vfork") return 15
	if (m ~ /^afork_3fa/) return 11
	return 20
}

function add_sorted(list, n, key, rk,    i) {
	# insertion into list[1..n] ordered by rk[]
	i = n
	while (i >= 1 && rk[list[i]] > rk[key]) {
		list[i + 1] = list[i]
		i--
	}
	list[i + 1] = key
	return n + 1
}

function get(row, tg, m, col) {
	return val[row SUBSEP tg SUBSEP m SUBSEP col]
}

function has(row, tg, m) {
	return ((row SUBSEP tg SUBSEP m SUBSEP "blocked_p50_us") in val)
}

# The worst ratio a/b (col) over the plain size rows; "" if none.
# le: 1 if the target is "<=" (worst = largest), 0 for ">=".
function ratio_over_sizes(tg, a, b, col, le,    i, r, worst, parts, row, x, y) {
	worst = ""
	parts = ""
	for (i = 1; i <= nsize; i++) {
		row = sizerow[i]
		if (!has(row, tg, a) || !has(row, tg, b))
			continue
		x = get(row, tg, a, col)
		y = get(row, tg, b, col)
		if (y <= 0)
			continue
		r = x / y
		parts = parts (parts == "" ? "" : ", ") row ": " sprintf("%.2f", r)
		if (worst == "" || (le && r > worst) || (!le && r < worst))
			worst = r
	}
	ratio_parts = parts
	return worst
}

function verdict(worst, limit, le, applies) {
	if (worst == "")
		return "n/a"
	if (!applies)
		return "info"
	if ((le && worst <= limit) || (!le && worst >= limit))
		return "PASS"
	return "**MISS**"
}

function target_line(name, worst, limit, le, applies, detail,    v) {
	v = verdict(worst, limit, le, applies)
	printf "| %s | %s | %s %s | %s |\n", name, (worst == "" ? "–" : sprintf("%.2f", worst)),
	       (le ? "≤" : "≥"), limit, v
	if (detail != "")
		details = details "- " name ": " detail "\n"
	if (v == "PASS") npass++
	else if (v == "**MISS**") nmiss++
}

BEGIN {
	FS = ","
	nrow = 0; ntg = 0; nm = 0; nsize = 0
}

/^# / {
	line = substr($0, 3)
	k = line
	sub(/:.*/, "", k)
	v = line
	sub(/^[^:]*: */, "", v)
	meta[k] = v
	metaorder[++nmeta] = line
	next
}

$1 == "where" {
	for (i = 1; i <= NF; i++)
		col[$i] = i
	ncol = NF
	next
}

$1 != "" && ("row" in col) && NF == ncol {
	where = $1
	row = $col["row"]; tg = $col["target"]; m = $col["method"]
	if (!(row in rowseen)) {
		rowseen[row] = 1
		rows[++nrow] = row
		rowsize[row] = $col["size_mib"] + 0
		if ($col["thp"] == "off" && $col["busy_threads"] == 0)
			sizerow[++nsize] = row
	}
	if (!(tg in tgseen)) {
		tgseen[tg] = 1
		tgs[++ntg] = tg
	}
	if (!(m in mseen)) {
		mseen[m] = 1
		rk[m] = rank(m) + nm / 1000
		nm = add_sorted(methods, nm, m, rk)
	}
	for (c in col)
		val[row SUBSEP tg SUBSEP m SUBSEP c] = $col[c]
	if ($col["errors"] > 0)
		errs = errs "- " row " / " tg " / " m ": " $col["errors"] " error(s)\n"
	if (m ~ /^afork_3fa_/) proxy3fa = m
	if (m ~ /^afork_spawn_3fa/) spawn3fa = m
	if (m == "afork_clone3") clonem = m
	else if (m == "afork_clone_legacy" && clonem == "") clonem = m
}

END {
	guest = (where == "guest")
	autob = meta["backend auto"]
	gsub(/-/, "_", autob)
	inflight = "64"
	if (match(meta["params"], /inflight=[0-9]+/))
		inflight = substr(meta["params"], RSTART + 9, RLENGTH - 9)
	printf "### afork-bench, %s: %s\n\n", where, meta["date"]
	split(meta["loadavg_start"], la0, " ")
	split(meta["loadavg_end"], la1, " ")
	printf "%s, %s CPU(s) (%s), page size %s B, THP `%s`; glibc %s, libafork %s; run took %s s; 1-minute load average %s at the start, %s at the end; a getppid() took %s ns at the start, %s ns at the end (other work on the machine inflates every figure: compare within the run).\n\n",
	       meta["kernel"], meta["cpus_online"], meta["cpu"], meta["page_size"],
	       meta["thp_enabled"], meta["glibc"], meta["libafork"], meta["elapsed_s"],
	       la0[1], la1[1], (meta["getppid_ns_start"] != "" ? meta["getppid_ns_start"] : "?"),
	       (meta["getppid_ns_end"] != "" ? meta["getppid_ns_end"] : "?")
	for (i = 1; i <= nmeta; i++)
		if (metaorder[i] ~ /^backend /)
			printf "%s. ", metaorder[i]
	printf "\n\nRows: parent with that much touched anonymous memory (4 KiB pages, MADV_NOHUGEPAGE); `-THP`: MADV_HUGEPAGE instead; `+Nthr`: N busy threads in the parent. Exec targets: `static`, a 2-instruction static binary"
	if ("target bin_true" in meta)
		printf "; `bin_true`, %s", meta["target bin_true"]
	printf ".\n\n"

	for (t = 1; t <= ntg; t++) {
		tg = tgs[t]
		printf "#### Exec target `%s`\n\n", tg
		printf "Blocked time of the calling thread, µs, median (p99):\n\n"
		hdr = "| method |"; sep = "|---|"
		for (r = 1; r <= nrow; r++) { hdr = hdr " " rows[r] " |"; sep = sep "---:|" }
		print hdr; print sep
		for (i = 1; i <= nm; i++) {
			m = methods[i]; line = "| " m " |"
			for (r = 1; r <= nrow; r++)
				line = line " " (has(rows[r], tg, m) ? fmt(get(rows[r], tg, m, "blocked_p50_us")) " (" fmt(get(rows[r], tg, m, "blocked_p99_us")) ")" : "–") " |"
			print line
		}
		printf "\nThroughput with %s children in flight, spawns/s:\n\n", inflight
		print hdr; print sep
		for (i = 1; i <= nm; i++) {
			m = methods[i]; line = "| " m " |"
			for (r = 1; r <= nrow; r++)
				line = line " " (has(rows[r], tg, m) ? fmt(get(rows[r], tg, m, "tput_per_s")) : "–") " |"
			print line
		}
		if ("tput_cpu_us_per_spawn" in col) {
			printf "\nCPU time per spawn during the throughput run, µs (the caller, its threads and the children until they are reaped, exec and exit included; %s CPUs can do at most %s × 10⁶ / this many spawns per second):\n\n", meta["cpus_online"], meta["cpus_online"]
			print hdr; print sep
			for (i = 1; i <= nm; i++) {
				m = methods[i]; line = "| " m " |"
				for (r = 1; r <= nrow; r++)
					line = line " " (has(rows[r], tg, m) ? fmt(get(rows[r], tg, m, "tput_cpu_us_per_spawn")) : "–") " |"
				print line
			}
		}
		printf "\nRound trip (spawn, exec, exit, reap), µs, median:\n\n"
		print hdr; print sep
		for (i = 1; i <= nm; i++) {
			m = methods[i]; line = "| " m " |"
			for (r = 1; r <= nrow; r++)
				line = line " " (has(rows[r], tg, m) ? fmt(get(rows[r], tg, m, "rtt_p50_us")) : "–") " |"
			print line
		}
		print ""

		# Plot data: one block per method over the plain size rows.
		if (plotdir != "") {
			dat = plotdir "/" tg ".dat"
			printf "" > dat
			nb = 0
			x0 = 0
			for (r = 1; r <= nsize; r++)
				if (rowsize[sizerow[r]] > 0 && (x0 == 0 || rowsize[sizerow[r]] < x0))
					x0 = rowsize[sizerow[r]]
			x0 = (x0 > 0) ? x0 / 8 : 1
			for (i = 1; i <= nm; i++) {
				m = methods[i]
				# The plot shows each backend once, spawn on the default one.
				if (m ~ /3fa|^afork_poll/ || (m ~ /^afork_spawn_/ && m != "afork_spawn_" autob))
					continue
				if (nb++)
					printf "\n\n" > dat
				printf "%s\n", m > dat
				for (r = 1; r <= nsize; r++) {
					row = sizerow[r]
					if (!has(row, tg, m))
						continue
					x = rowsize[row] > 0 ? rowsize[row] : x0
					printf "%g %s %s %s %s\n", x, get(row, tg, m, "blocked_p50_us"),
					       get(row, tg, m, "blocked_p90_us"), get(row, tg, m, "blocked_p99_us"),
					       get(row, tg, m, "tput_per_s") > dat
				}
			}
			close(dat)
			xt = ""
			for (r = 1; r <= nsize; r++) {
				row = sizerow[r]
				x = rowsize[row] > 0 ? rowsize[row] : x0
				xt = xt (xt == "" ? "" : ", ") "\"" (rowsize[row] > 0 ? row : "0") "\" " x
			}
			print "(" xt ")" > (plotdir "/" tg ".xtics")
			close(plotdir "/" tg ".xtics")
			print nb > (plotdir "/" tg ".n")
			close(plotdir "/" tg ".n")
		}
	}

	# ---- targets, exec target "static", ratios within this run
	tg = "static"
	if (!(tg in tgseen))
		tg = tgs[1]
	printf "#### Targets (exec target `%s`, medians, ratios within this run)\n\n", tg
	if (guest)
		printf "Guest run: only the syscall-vs-clone target is judged here; the host targets are shown for reference (TCG timings are not host timings).\n\n"
	print "| target | worst ratio | limit | verdict |"
	print "|---|---:|---:|---|"
	details = ""; npass = 0; nmiss = 0
	host = !guest
	cm = clonem
	if (cm == "") cm = "afork_clone3"
	w = ratio_over_sizes(tg, cm, "raw_clone_vm", "blocked_p50_us", 1)
	target_line("blocked: " cm " / raw_clone_vm", w, 1.3, 1, host, ratio_parts)
	w = ratio_over_sizes(tg, cm, "posix_spawn", "blocked_p50_us", 1)
	target_line("blocked: " cm " / posix_spawn", w, 0.35, 1, host, ratio_parts)
	w = ratio_over_sizes(tg, cm, "vfork", "blocked_p50_us", 1)
	target_line("blocked: " cm " / vfork", w, 0.5, 1, host, ratio_parts)
	# largest plain size / 0
	big = ""; zero = ""
	for (r = 1; r <= nsize; r++) {
		if (rowsize[sizerow[r]] == 0) zero = sizerow[r]
		else if (big == "" || rowsize[sizerow[r]] > rowsize[big]) big = sizerow[r]
	}
	w = ""
	if (big != "" && zero != "" && has(big, tg, cm) && has(zero, tg, cm) && get(zero, tg, cm, "blocked_p50_us") > 0)
		w = get(big, tg, cm, "blocked_p50_us") / get(zero, tg, cm, "blocked_p50_us")
	target_line("blocked: " cm " " big " / 0", w, 1.2, 1, host, "")
	w = ratio_over_sizes(tg, cm, "posix_spawn", "tput_per_s", 0)
	target_line("throughput: " cm " / posix_spawn", w, 1.8, 0, host, ratio_parts)
	w = ratio_over_sizes(tg, cm, "vfork", "tput_per_s", 0)
	target_line("throughput: " cm " / vfork", w, 1.5, 0, host, ratio_parts)
	w = ratio_over_sizes(tg, cm, "raw_clone_vm", "tput_per_s", 0)
	target_line("throughput: " cm " / raw_clone_vm", w, 0.9, 0, host, ratio_parts)
	sm = spawn3fa != "" ? spawn3fa : proxy3fa
	w = ratio_over_sizes(tg, sm, "posix_spawn_3fa", "blocked_p50_us", 1)
	target_line("blocked, 3 file actions: " sm " / posix_spawn_3fa", w, 0.5, 1, host, ratio_parts)
	w = ratio_over_sizes(tg, "afork_syscall", cm, "blocked_p50_us", 1)
	target_line("blocked: afork_syscall / " cm " (guest)", w, 0.85, 1, guest, ratio_parts)
	w = ratio_over_sizes(tg, "afork_poll_syscall", "afork_poll_" substr(cm, 7), "blocked_p50_us", 1)
	target_line("blocked, pidfd + release fd: afork_poll_syscall / afork_poll_" substr(cm, 7) " (guest)", w, 0.85, 1, guest, ratio_parts)
	w = ratio_over_sizes(tg, "afork_spawn_syscall", "afork_spawn_" substr(cm, 7), "blocked_p50_us", 1)
	target_line("blocked, afork_spawn: afork_spawn_syscall / afork_spawn_" substr(cm, 7) " (guest)", w, 0.85, 1, guest, ratio_parts)
	w = ratio_over_sizes(tg, "afork_syscall", "afork_clone_legacy", "blocked_p50_us", 1)
	target_line("blocked: afork_syscall / afork_clone_legacy (guest, extra)", w, 0.85, 1, 0, ratio_parts)
	printf "\n%d PASS, %d MISS (\"info\": shown, not judged in this run). \"worst ratio\" is the worst over the parent sizes without THP or busy threads:\n\n%s", npass, nmiss, details
	printf "\nMethods: `afork_<backend>` is afork() (no handle); `afork_poll_<backend>` is afork_start() with AFORK_OPT_PIDFD|AFORK_OPT_RELEASE_FD, what an event loop uses; `afork_spawn_<backend>` is afork_spawn() with default attributes; `raw_clone_vm` is clone(CLONE_VM|CLONE_CHILD_CLEARTID|SIGCHLD) from a 20-instruction assembly helper whose child only execs (the floor).\n"
	if (spawn3fa == "" && proxy3fa != "")
		printf "\n`%s` stands in for the library's non-blocking spawn call (not in libafork yet): afork() with a child doing the same three file actions through afork_child_open/dup2/close.\n", proxy3fa
	if (errs != "")
		printf "\nErrors (children that failed to start or did not exit 0):\n\n%s", errs
	print ""
}
