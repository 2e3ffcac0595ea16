#!/bin/sh
# Run cases of a kselftest_harness program one at a time, with retries.
#
#   ksft-retry.sh [-k TEXT REASON] TRIES PROGRAM CASE...
#
# For cases that race in the kernel under test itself (reasons in
# qemu/ksft-payload.sh): each CASE runs alone (PROGRAM -t CASE), again
# after a failure, at most TRIES times.  A case passes when one attempt
# passes; it fails when every attempt fails, so a behaviour that is broken
# for good still fails.  Every retry is printed as a TAP comment, with the
# failed attempt's output, so that a run which needed one is visible.
#
# -k: the known race's signature.  When every attempt failed and each
# failed attempt's output held TEXT (grep -F), the case is reported as
# a skip with REASON (the race won every time: nothing was learnt about
# the behaviour); a failure of any other kind is still a failure.
#
# Prints one TAP line per case (global.CASE); exits 1 when any case
# failed, else 0.
known='' reason=''
if [ "${1:-}" = -k ]; then
	known=$2 reason=$3
	shift 3
fi
tries=$1
prog=$2
shift 2

echo "TAP version 13"
echo "1..$#"
i=0
failed=0
for c in "$@"; do
	i=$((i + 1))
	n=1
	racy=${known:+1}
	while :; do
		out=$("$prog" -t "$c" 2>&1)
		rc=$?
		case $rc in 0|4) break ;; esac
		echo "$out" | grep -Fq -- "$known" || racy=''
		echo "$out" | sed 's/^/# | /'
		echo "# $c: attempt $n of $tries failed (exit status $rc)"
		[ "$n" -lt "$tries" ] || break
		n=$((n + 1))
	done
	# The harness exits 0 when its only case skipped: read the TAP line.
	why=$(echo "$out" | sed -n 's/^ok [0-9]* .* # SKIP *//p' | head -n 1)
	[ "$rc" -ne 0 ] || [ -z "$why" ] || rc=4
	case $rc in 0|4) ;; *) [ -z "$racy" ] || { rc=4 why="$reason (all $tries tries)"; } ;; esac
	case $rc in
	0)
		[ "$n" -eq 1 ] || echo "# $c: passed on attempt $n"
		echo "ok $i global.$c"
		;;
	4)
		echo "ok $i global.$c # SKIP ${why:-skipped}"
		;;
	*)
		echo "not ok $i global.$c"
		failed=$((failed + 1))
		;;
	esac
done
[ "$failed" -eq 0 ]
