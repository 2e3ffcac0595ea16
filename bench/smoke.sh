#!/bin/sh
# SPDX-License-Identifier: MIT
# make check's test of afork-bench: a tiny run (afork-bench --smoke), then
# checks of the CSV's shape and of the report; the same for the stall
# bench (afork-stall-bench, beside BIN).  No timing is asserted.
#
#   bench/smoke.sh BIN WORKDIR        TAP on stdout; exit 0 pass, 1 fail
set -u

bin=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..15"
rm -rf "$work"
mkdir -p "$work"
csv=$work/smoke.csv

timeout 300 "$bin" --smoke --out "$csv" 2>"$work/stderr"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$work/stderr"
ok $rc "afork-bench --smoke exits 0"

r=0
for k in where date kernel cpu page_size thp_enabled glibc libafork params; do
	grep -q "^# $k: ." "$csv" 2>/dev/null || { echo "# missing metadata: $k"; r=1; }
done
ok $r "CSV records the machine (kernel, CPU, page size, THP, date, versions)"

hdr='where,row,size_mib,thp,busy_threads,target,method,backend,samples,blocked_p50_us,blocked_p90_us,blocked_p99_us,rtt_p50_us,rtt_p90_us,rtt_p99_us,tput_spawns,tput_per_s,tput_cpu_us_per_spawn,errors,anon_huge_mib'
[ "$(grep -v '^#' "$csv" 2>/dev/null | head -n 1)" = "$hdr" ]
ok $? "CSV header"

awk -F, '/^#/ { next } !nf { nf = NF; next } NF != nf { print "# bad line: " $0; bad = 1 }
	 END { exit bad || nf != 20 }' "$csv" 2>/dev/null
ok $? "every data line has the header's 20 fields"

# Rows x targets x methods: every cell measured.
thp=0
[ -r /sys/kernel/mm/transparent_hugepage/enabled ] && thp=1
spawn=0
grep -q '^# afork_spawn: afork_spawn(' "$csv" 2>/dev/null && spawn=1
awk -F, -v thp=$thp -v spawn=$spawn '
	/^#/ || $1 == "where" { next }
	{ rows[$2] = 1; tg[$6] = 1; seen[$2, $6, $7] = 1; m[$7] = 1 }
	END {
		want = "0 8M 0+2thr" (thp ? " 8M-THP" : "")
		nr = split(want, r, " ")
		for (i = 1; i <= nr; i++)
			if (!(r[i] in rows)) { print "# missing row " r[i]; bad = 1 }
		if (!("static" in tg) || !("bin_true" in tg)) { print "# missing a target"; bad = 1 }
		nm = split("fork vfork posix_spawn raw_clone_vm posix_spawn_3fa afork_clone_legacy afork_vfork", need, " ")
		for (i = 1; i <= nm; i++)
			if (!(need[i] in m)) { print "# missing method " need[i]; bad = 1 }
		for (x in m) {
			if (x ~ /^afork_3fa_/) p = 1
			if (x ~ /^afork_spawn_3fa_/) s3 = 1
			else if (x ~ /^afork_spawn_/) s0 = 1
		}
		for (x in m) if (x ~ /^afork_poll_/) pl = 1
		if (!pl) { print "# missing method afork_poll_*"; bad = 1 }
		if (!p) { print "# missing method afork_3fa_*"; bad = 1 }
		if (spawn && !(s0 && s3)) { print "# missing method afork_spawn_*"; bad = 1 }
		for (a in rows) for (b in tg) for (x in m)
			if (!((a, b, x) in seen)) { print "# missing " a "/" b "/" x; bad = 1 }
		exit bad
	}' "$csv" 2>/dev/null
ok $? "every row x target x method present (rows 0, 8M, 8M-THP, 0+2thr)"

awk -F, '/^#/ || $1 == "where" { next }
	 !($9 >= 1 && $10 > 0 && $10 <= $11 && $11 <= $12 && $13 > 0 &&
	   $13 <= $14 && $14 <= $15 && $16 > 0 && $17 > 0 && $18 > 0) {
		print "# implausible: " $0; bad = 1 }
	 END { exit bad }' "$csv" 2>/dev/null
ok $? "samples > 0, times and CPU per spawn positive, p50 <= p90 <= p99"

awk -F, '/^#/ || $1 == "where" { next } $19 != 0 { print "# errors: " $0; bad = 1 }
	 END { exit bad }' "$csv" 2>/dev/null
ok $? "every child exec'd and exited 0 (errors column 0)"

"$here/run.sh" report "$csv" "$work/report" >"$work/report.out" 2>&1
r=$?
[ $r -eq 0 ] && grep -q '^#### Targets' "$work/report/results.md" &&
	grep -q 'raw_clone_vm' "$work/report/results.md" || r=1
[ $r -eq 0 ] || sed 's/^/# /' "$work/report.out"
ok $r "report: results.md with tables and targets"

if command -v gnuplot >/dev/null 2>&1; then
	c=$(ls "$work/report"/*.png 2>/dev/null | wc -l)
	[ "$c" -eq 4 ]
	ok $? "report: 4 PNG plots"
else
	n=$((n + 1))
	echo "ok $n report: PNG plots # SKIP gnuplot not installed"
fi

# The stall bench: every method at two sizes, every child exits 0.
stall=$(dirname "$bin")/afork-stall-bench
timeout 300 "$stall" --sizes 0,8 --count 12 --inflight 4 >"$work/stall.csv" 2>"$work/stall.err"
ok $? "afork-stall-bench exits 0 (no child failed)"
awk -F, '/^#/ || $1 == "where" { next }
	{ n++; seen[$2, $3] = 1 }
	!(NF == 17 && $5 == 12 && $6 == 0 && $7 >= 12 && $8 > 0 && $8 <= $9 && $9 <= $10 &&
	  $11 <= $12 && $12 <= $13 && $15 >= 0 && $16 >= 0 && $15 + $16 <= $13 + 0.2 &&
	  $17 <= $13) { print "# implausible: " $0; bad = 1 }
	END {
		split("fork posix_spawn afork_spawn uring", m, " ")
		for (i = 1; i <= 4; i++)
			if (!((0, m[i]) in seen) || !((8, m[i]) in seen)) { print "# missing " m[i]; bad = 1 }
		exit bad || n != 8
	}' "$work/stall.csv"
ok $? "stall CSV: 4 methods x 2 sizes, 12 launches each, p50 <= p99 <= max, tail parts within it"
"$here/stall.sh" report "$work/stall.csv" "$work/stall" >"$work/stall.out" 2>&1 &&
	grep -q '^| afork_spawn at 8 MiB ≤ 0.1× posix_spawn |' "$work/stall/stall.md"
ok $? "stall report: the table and the targets"

# The stall profile's split, on a made-up trace whose answer is known.
# Turn 1: due at 1 s, 300 µs late, the loop busy for the first 100; it
# sleeps, the timer (on an idle CPU 0) wakes it 50 µs later, a kworker
# holds its CPU 100 µs, and it runs the last 50.  Turn 2: due at 1.01 s,
# 400 µs late: the timer wakes it after 100 (CPU 1 idle), it runs 50,
# sleeps in D for 200 until CPU 0, running a child before its exec, wakes
# it, and runs 50.  Means over the two turns: stall 350, busy 50, timer 75,
# cpu 50, blocked 100, running 75; of the 150 µs running, sampled every
# 50 µs, one sample fell on the loop's CPU: 33%.
printf 'host,0,afork_spawn,1000000000,300000,100000\nhost,0,afork_spawn,1010000000,400000,0\n' \
	>"$work/profile.ticks"
s='sched:sched_switch:' w='sched:sched_waking: comm=afork-stall-ben pid=77 prio=120'
cat >"$work/profile.trace" <<EOF
5 [000] 0.900000000: $s prev_comm=sh prev_pid=5 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
77 [001] 1.000100000: $s prev_comm=afork-stall-ben prev_pid=77 prev_prio=120 prev_state=S ==> next_comm=kworker/1:0 next_pid=9 next_prio=120
0 [000] 1.000150000: $w target_cpu=001
9 [001] 1.000250000: $s prev_comm=kworker/1:0 prev_pid=9 prev_prio=120 prev_state=R ==> next_comm=afork-stall-ben next_pid=77 next_prio=120
77 [001] 1.002000000: $s prev_comm=afork-stall-ben prev_pid=77 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120
0 [000] 1.005000000: $s prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=afork-stall-ben next_pid=88 next_prio=120
0 [001] 1.010100000: $w target_cpu=001
0 [001] 1.010100000: $s prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=afork-stall-ben next_pid=77 next_prio=120
77 [001] 1.010120000: cpu-clock/period=50000/: 
88 [000] 1.010130000: cpu-clock/period=50000/: 
77 [001] 1.010150000: $s prev_comm=afork-stall-ben prev_pid=77 prev_prio=120 prev_state=D ==> next_comm=swapper/1 next_pid=0 next_prio=120
88 [000] 1.010350000: $w target_cpu=001
0 [001] 1.010350000: $s prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=afork-stall-ben next_pid=77 next_prio=120
EOF
awk -v loop=77 -v hz=20000 -f "$here/stall-profile.awk" "$work/profile.ticks" "$work/profile.trace" >"$work/profile.md" 2>&1 &&
	grep -q '^| stall | 350.0 | 100% |$' "$work/profile.md" &&
	grep -q "^| busy: .* | 50.0 | 14% |$" "$work/profile.md" &&
	grep -q '^| timer: .* running nothing (idle.* | 75.0 | 21% |$' "$work/profile.md" &&
	grep -q '^| cpu: runnable, its CPU running kernel threads (kworker/1:0) | 50.0 | 14% |$' "$work/profile.md" &&
	grep -q '^| blocked: asleep again in its turn (D), woken from a CPU running a child, before its exec | 100.0 | 29% |$' "$work/profile.md" &&
	grep -q '^| running: .* fired for 33% of it | 75.0 | 21% |$' "$work/profile.md"
ok $? "stall profile: a known trace splits into busy, timer, cpu, blocked and running"

# The popen bench: four methods, every child exits 0, the report's verdict.
popen=$(dirname "$bin")/afork-popen-bench
timeout 300 "$popen" --size 8 --iters 5 --out "$work/popen.csv" 2>"$work/popen.err"
ok $? "afork-popen-bench exits 0 (every popen'd /bin/true exited 0)"
awk -F, '/^#/ || $1 == "size_mib" { next }
	{ n++; seen[$2] = 1 }
	!(NF == 8 && $1 == 8 && $4 == 5 && $5 > 0 && $5 <= $6 && $6 <= $7 && $8 > 0) {
		print "# implausible: " $0; bad = 1 }
	END { exit bad || n != 4 || !seen["popen"] || !seen["afork_popen"] || !seen["afork_popenve"] || !seen["floor"] }' \
	"$work/popen.csv" &&
	"$here/popen.sh" report "$work/popen.csv" "$work/popen" >/dev/null 2>&1 &&
	grep -Eq '^Target: afork_popenve call .* [0-9.]+, (met|missed)\.$' "$work/popen/popen.md"
ok $? "popen CSV: 4 methods (the floor too), p50 <= p90 <= p99; the report gives the verdict"

[ $failed -eq 0 ]
