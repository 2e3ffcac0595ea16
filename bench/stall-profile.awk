# SPDX-License-Identifier: MIT
# Where the tail stalls of afork-stall-bench go (bench/stall-profile.sh).
#
# Input: first the tail turns (afork-stall-bench --ticks, sorted by due:
# where,size_mib,method,due_ns,stall_ns,busy_ns), then `perf script -F
# tid,cpu,time,event,trace --ns` of a scheduler trace taken with the same
# clock (CLOCK_MONOTONIC).  -v loop=PID names the event loop's thread.
#
# Each tail turn's stall splits into:
#   busy   the loop was still doing its own work (launch, reap) at the due
#          time (from the bench itself);
#   timer  after that, until the loop was made runnable (the timer's
#          interrupt and wakeup: hrtimer slack, interrupt delivery);
#   cpu    runnable until it ran: what ran on its CPU meanwhile is named;
#   rest   the loop on a CPU (poll, read, in the kernel), or what the trace
#          does not place (a turn whose switch-in it missed).
# Output: markdown, one table per (size, method).

function ns(s) { sub(/:$/, "", s); split(s, p, "."); return p[1] * 1000000000 + p[2] }
function field(name,   r) {
	if (!match($0, " " name "=[^ ]*"))
		return ""
	r = substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
	return r
}
function what(comm, pid) {
	if (pid == 0) return "idle CPU (waking from idle, or the hypervisor)"
	if (comm == "afork-stall-ben") return "a child, before its exec"
	if (comm ~ /^afork-bench-tin/) return "a child, after its exec (afork-bench-tiny)"
	if (comm ~ /^(kworker|ksoftirqd|rcu|migration|kcompactd|khugepaged|kswapd)/)
		return "kernel threads (" comm ")"
	return "other tasks (" comm ")"
}
function key(i) { return size[i] SUBSEP meth[i] }
# Close turn i: its parts go to its (size, method).
function close_turn(i,   k, w, late, cpu, rest) {
	k = key(i)
	w = stall[i] - busy[i]
	late = tlate[i] + 0; cpu = tcpu[i] + 0
	if (late > w) late = w
	if (late + cpu > w) cpu = w - late
	rest = w - late - cpu
	if (!(k in nturn)) order[++nkeys] = k
	nturn[k]++; sstall[k] += stall[i]; sbusy[k] += busy[i]
	slate[k] += late; scpu[k] += cpu; srest[k] += rest
	if (i in tlate) nin[k]++
}
BEGIN { cur = 1 }
FNR == NR {
	split($0, f, ",")
	n++; size[n] = f[2]; meth[n] = f[3]; due[n] = f[4]
	stall[n] = f[5]; busy[n] = f[6]
	ws[n] = f[4] + f[6]; we[n] = f[4] + f[5]
	next
}
{
	if ($3 !~ /:$/) next
	t = ns($3); cpu_ = $2; gsub(/[\[\]]/, "", cpu_); cpu_ += 0; ev = $4
	while (cur <= n && t > we[cur]) { close_turn(cur); cur++ }
	if (ev == "sched:sched_waking:" || ev == "sched:sched_wakeup:") {
		if (field("pid") == loop && !running) {
			if (ready_t == "") ready_t = t
			ready_cpu = field("target_cpu") + 0
		}
	} else if (ev == "sched:sched_migrate_task:") {
		if (field("pid") == loop) ready_cpu = field("dest_cpu") + 0
	} else if (ev == "sched:sched_switch:") {
		pp = field("prev_pid"); np = field("next_pid"); pc = field("prev_comm")
		# The task that ran on this CPU until now, while the loop waited for it.
		if (cur <= n && pp != loop && ready_t != "" && !running && cpu_ == ready_cpu &&
		    (cpu_ in since)) {
			a = since[cpu_]; if (a < ready_t) a = ready_t; if (a < ws[cur]) a = ws[cur]
			b = t; if (b > we[cur]) b = we[cur]
			if (b > a) ran[key(cur), what(pc, pp)] += b - a
		}
		since[cpu_] = t
		if (pp == loop) {
			running = 0
			ready_t = field("prev_state") ~ /^R/ ? t : ""
			ready_cpu = cpu_
		}
		if (np == loop) {
			# Each time it got a CPU in the turn's wait: the wait for it,
			# and for the first, the wait to be made runnable at all.
			if (cur <= n && t >= ws[cur] && t <= we[cur]) {
				a = ready_t == "" ? t : ready_t
				if (!(cur in tlate)) tlate[cur] = a > ws[cur] ? a - ws[cur] : 0
				if (a < ws[cur]) a = ws[cur]
				tcpu[cur] += t - a
			}
			running = 1; ready_t = ""
		}
	}
}
END {
	while (cur <= n) { close_turn(cur); cur++ }
	for (j = 1; j <= nkeys; j++) {
		k = order[j]; split(k, kk, SUBSEP); c = nturn[k]
		printf "### %s, parent %s MiB: %d tail turns (stall ≥ p99), %d with the loop's switch-in traced\n\n",
			kk[2], kk[1], c, nin[k]
		printf "| part | mean µs | share |\n|---|---:|---:|\n"
		printf "| stall | %.1f | 100%% |\n", sstall[k] / c / 1e3
		part("busy: the loop's own previous turn (launch, reap)", sbusy[k], k, c)
		part("timer: due until the loop was runnable", slate[k], k, c)
		part("cpu: runnable until it ran", scpu[k], k, c)
		for (r in ran) {
			split(r, rr, SUBSEP)
			if (rr[1] SUBSEP rr[2] == k)
				part("&nbsp;&nbsp;cpu, while it ran: " rr[3], ran[r], k, c)
		}
		part("rest: the loop on its CPU (poll, read), or not placed by the trace", srest[k], k, c)
		printf "\n"
	}
}
function part(name, v, k, c) {
	printf "| %s | %.1f | %.0f%% |\n", name, v / c / 1e3, (sstall[k] > 0 ? 100 * v / sstall[k] : 0)
}
