#!/bin/sh
# Summarise kselftest TAP output.
#
#   scripts/summary.sh DIR...
#
# Reads every *.tap file below the given directories (one file per test
# program) and counts the top-level test lines:
#   ok N desc                  passed
#   ok N desc # XFAIL reason   passed (an expected failure)
#   ok N desc # SKIP reason    skipped
#   not ok N desc [# ...]      failed
# Indented (nested) TAP and "#" comment lines are not counted.
#
# A program also counts as one failure of its own when its file
#   - has no plan line (1..N), i.e. it crashed before starting or is no TAP;
#   - has fewer result lines than its plan announced;
#   - records a non-zero exit status, other than 4 (kselftest skip), in a
#     "# rc=N" line (written by qemu/split-log.sh and the host test runner)
#     and yet has no failing line: e.g. it died, or timed out (rc=124), or
#     never finished (rc=missing).
# A folder given that holds no TAP file at all counts as one failure.
# A program that skipped as a whole ("1..0 # SKIP reason") counts as one
# skip.
#
# Prints each failure and each skip reason, then, as its last line,
#   afork: N passed, N failed, N skipped
# followed by " (a subset: T=...)" when AFORK_SUBSET is set (make T=...).
# and exits 1 if anything failed (or no TAP file was found), else 0.
set -eu

if [ $# -eq 0 ]; then
	echo "usage: summary.sh DIR..." >&2
	exit 2
fi

# A folder without any TAP file is a part of the run that never ran (say, a
# build that failed before its tests): one failure each, named.
empty=
for d in "$@"; do
	[ -n "$(find "$d" -name '*.tap' -type f 2>/dev/null | head -n 1)" ] ||
		empty="$empty ${d#"$PWD"/}"
done
export AFORK_SUMMARY_EMPTY="$empty"

# Every file is fed to awk behind a "@@file NAME" line, so that empty files
# (a program that printed nothing) are seen too.
find "$@" -name '*.tap' -type f 2>/dev/null | LC_ALL=C sort |
while IFS= read -r f; do
	n=${f##*/}
	echo "@@file ${n%.tap}"
	cat "$f"
	echo
done | awk '
	function finish(   why) {
		if (prog == "")
			return
		why = ""
		bad_rc = (rc != "" && rc != "0" && rc != "4")
		if (!have_plan)
			why = "no TAP plan (crashed, or not a TAP program)"
		else if (results < plan)
			why = "only " results " of " plan " results"
		else if (bad_rc && fails == 0)
			why = (rc == "124" ? "timed out" : \
			       rc == "missing" ? "did not finish (guest died?)" : \
			       "exited with status " rc)
		if (why != "" && bad_rc && why !~ /timed out|did not finish|status/)
			why = why ", exit status " rc
		if (why != "") {
			failed++
			printf "FAIL  %s: %s\n", prog, why
		} else if (plan == 0 && results == 0) {
			skipped++
			printf "SKIP  %s: %s\n", prog, (skipall != "" ? skipall : "no tests")
		}
	}
	# "ok 3 name # SKIP why" -> "SKIP why"; "" without a directive.
	function directive(line,   i) {
		i = index(line, " # ")
		return i ? substr(line, i + 3) : ""
	}
	function desc(line,   d) {
		d = line
		sub(/^(not )?ok +[0-9]* */, "", d)
		sub(/ # .*/, "", d)
		return d
	}
	function reason(d) {
		d = substr(d, 5)
		sub(/^ +/, "", d)
		return d
	}
	/^@@file / {
		finish()
		prog = substr($0, 8)
		have_plan = 0; plan = 0; results = 0; fails = 0; rc = ""; skipall = ""
		next
	}
	/^1\.\.[0-9]+/ {
		have_plan = 1
		plan = substr($1, 4) + 0
		if (toupper(directive($0)) ~ /^SKIP/)
			skipall = reason(directive($0))
		next
	}
	/^# rc=/ { rc = substr($0, 6); next }
	/^ok( |$)/ {
		results++
		d = directive($0)
		if (toupper(d) ~ /^SKIP/) {
			skipped++
			r = reason(d)
			printf "SKIP  %s: %s%s\n", prog, desc($0), (r != "" ? " (" r ")" : "")
		} else {
			passed++	# including "# XFAIL": an expected failure
		}
		next
	}
	/^not ok( |$)/ {
		results++
		fails++
		failed++
		printf "FAIL  %s: %s\n", prog, desc($0)
		next
	}
	END {
		finish()
		n = split(ENVIRON["AFORK_SUMMARY_EMPTY"], empty, " ")
		for (i = 1; i <= n; i++) {
			failed++
			print "FAIL  no TAP files under " empty[i] " (that part did not run)"
		}
		if (NR == 0 && n == 0) {
			failed++
			print "FAIL  no TAP files found"
		}
		subset = ENVIRON["AFORK_SUBSET"]
		printf "afork: %d passed, %d failed, %d skipped%s\n", passed, failed, skipped, \
			(subset != "" ? " (a subset: T=" subset ")" : "")
		exit(failed > 0)
	}'
