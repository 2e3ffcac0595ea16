# SPDX-License-Identifier: MIT
# Where the tail stalls of afork-stall-bench go (bench/stall-profile.sh).
#
# Input: first the tail turns (afork-stall-bench --ticks, sorted by due:
# where,size_mib,method,due_ns,stall_ns,busy_ns), then `perf script -F
# tid,cpu,time,event,trace --ns` of a scheduler trace taken with the same
# clock (CLOCK_MONOTONIC).  -v loop=PID names the event loop's thread.
#
# Each tail turn's stall splits into:
#   busy     the loop was still doing its own work (launch, reap) at the
#            due time (from the bench itself);
#   timer    after that, asleep until the timer made it runnable, named by
#            what ran on the CPU that took the timer's interrupt (a task
#            that keeps interrupts off, or an idle CPU slow to wake);
#   cpu      runnable until it ran, named by what ran on its CPU meanwhile;
#   blocked  asleep again after it ran (a lock, a page fault), by state and
#            by what ran on the CPU that woke it;
#   running  the loop on a CPU (poll, read), and what the trace misses.
# With -v hz=F and a cpu-clock event sampling every 1/F s in the trace,
# the running part also says for how much of it the sampling timer fired
# on the loop's CPU: a CPU whose own timer stays silent was not running
# at all (a vCPU the hypervisor did not run, or interrupts kept off).
# Output: markdown, one table per (size, method).

function ns(s,   p) { sub(/:$/, "", s); split(s, p, "."); return p[1] * 1000000000 + p[2] }
function field(name) {
	if (!match($0, " " name "=[^ ]*"))
		return ""
	return substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
}
function what(comm, pid) {
	if (pid == 0 || comm ~ /^swapper/) return "nothing (idle: waking from idle, or the hypervisor)"
	if (pid == loop) return "the loop itself"
	if (comm == "afork-stall-ben") return "a child, before its exec"
	if (comm ~ /^afork-bench-tin/) return "a child, after its exec (afork-bench-tiny)"
	if (comm ~ /^(kworker|ksoftirqd|rcu|migration|kcompactd|khugepaged|kswapd)/)
		return "kernel threads (" comm ")"
	return "other tasks (" comm ")"
}
function key(i) { return size[i] SUBSEP meth[i] }
function add(part, v) {
	if (v <= 0) return
	if (!((key(cur), part) in amt)) parts[key(cur)] = parts[key(cur)] SUBSEP part
	amt[key(cur), part] += v
}
# The loop's time in its current state from @since to @t, within the turn.
function account(t,   a) {
	if (cur > n) return
	a = since_l < ws[cur] ? ws[cur] : since_l
	if (t > we[cur]) t = we[cur]
	if (t <= a) return
	if (state == "run") { add(RUNNING, t - a); ran_in[cur] = 1 }
	else if (state == "sleep") pend_sleep += t - a
}
function close_turn(   k) {
	account(we[cur])
	k = key(cur)
	if (!(k in nturn)) order[++nkeys] = k
	nturn[k]++; sstall[k] += stall[cur]
	add("busy: the loop's own previous turn (launch, reap)", busy[cur])
	# Still asleep at the turn's end (the trace lost an event): unplaced.
	add(RUNNING, pend_sleep)
	pend_sleep = 0
	cur++
}
BEGIN { cur = 1; state = "run"; RUNNING = "running: the loop on a CPU, or not placed by the trace" }
FNR == NR {
	split($0, f, ",")
	n++; size[n] = f[2]; meth[n] = f[3]
	stall[n] = f[5]; busy[n] = f[6]
	ws[n] = f[4] + f[6]; we[n] = f[4] + f[5]
	next
}
{
	if ($3 !~ /:$/) next
	t = ns($3); c = $2; gsub(/[\[\]]/, "", c); c += 0; ev = $4
	while (cur <= n && t > we[cur]) close_turn()
	if (ev ~ /^cpu-clock/) {
		if (state == "run" && c == run_cpu && cur <= n && t >= ws[cur])
			smp[key(cur)]++
		next
	}
	if (ev == "sched:sched_waking:" || ev == "sched:sched_wakeup:") {
		if (field("pid") != loop || state != "sleep") next
		account(t)
		who = what(curcomm[c], curpid[c])
		if (pend_sleep > 0) {
			if (cur <= n && !(cur in ran_in))
				add("timer: asleep until its timer fired, on a CPU running " who, pend_sleep)
			else
				add("blocked: asleep again in its turn (" sstate "), woken from a CPU running " who, pend_sleep)
		}
		pend_sleep = 0
		state = "ready"; since_l = t; ready_cpu = field("target_cpu") + 0
	} else if (ev == "sched:sched_migrate_task:") {
		if (field("pid") == loop) ready_cpu = field("dest_cpu") + 0
	} else if (ev == "sched:sched_switch:") {
		pp = field("prev_pid"); np = field("next_pid")
		# What ran on the loop's CPU until now, while the loop waited for it.
		if (state == "ready" && c == ready_cpu && pp != loop && cur <= n && (c in since)) {
			a = since[c]
			if (a < since_l) a = since_l
			if (a < ws[cur]) a = ws[cur]
			b = t < we[cur] ? t : we[cur]
			if (b > a) add("cpu: runnable, its CPU running " what(field("prev_comm"), pp), b - a)
		}
		since[c] = t; curcomm[c] = field("next_comm"); curpid[c] = np
		if (pp == loop) {
			account(t)
			sstate = field("prev_state")
			state = sstate ~ /^R/ ? "ready" : "sleep"
			since_l = t; ready_cpu = c
		}
		if (np == loop) {
			account(t)
			state = "run"; since_l = t; run_cpu = c
		}
	}
}
END {
	while (cur <= n) close_turn()
	for (j = 1; j <= nkeys; j++) {
		k = order[j]; split(k, kk, SUBSEP); cnt = nturn[k]
		printf "### %s, parent %s MiB: %d tail turns (stall ≥ p99)\n\n", kk[2], kk[1], cnt
		printf "| part | mean µs | share |\n|---|---:|---:|\n"
		printf "| stall | %.1f | 100%% |\n", sstall[k] / cnt / 1e3
		np_ = split(parts[k], pl, SUBSEP)
		# Largest first.
		for (x = 2; x <= np_; x++)
			for (y = x; y > 2 && amt[k, pl[y]] > amt[k, pl[y - 1]]; y--) {
				tmp = pl[y]; pl[y] = pl[y - 1]; pl[y - 1] = tmp
			}
		for (x = 2; x <= np_; x++) {
			label = pl[x]
			if (label == RUNNING && hz > 0)
				label = label sprintf("; the CPU's sampling timer fired for %.0f%% of it",
						      100 * smp[k] / (amt[k, pl[x]] / 1e9 * hz))
			printf "| %s | %.1f | %.0f%% |\n", label, amt[k, pl[x]] / cnt / 1e3,
				(sstall[k] > 0 ? 100 * amt[k, pl[x]] / sstall[k] : 0)
		}
		printf "\n"
	}
}
