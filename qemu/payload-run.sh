#!/bin/sh
# /payload/run for the guest: run every program of /payload/tests.list.
#
# tests.list has one program per line:  NAME TIMEOUT_SECONDS COMMAND...
# (blank lines and lines starting with # are ignored).  COMMAND runs from
# /payload under sh -c, with busybox timeout.  Each program's output is framed
#
#   ### BEGIN NAME
#   ...its TAP...
#   ### END NAME rc=N
#
# so that the host can cut the console log into NAME.tap files
# (qemu/split-log.sh).  rc is 124 when the program timed out.  The exit
# status is 0 when every program exited 0 (pass) or 4 (kselftest skip),
# else 1.
dir=$(cd "$(dirname "$0")" && pwd)
list=${1:-$dir/tests.list}
cd "$dir" || exit 1

if [ ! -r "$list" ]; then
	echo "payload-run: $list missing" >&2
	exit 1
fi

failed=0
total=0
while read -r name secs cmd; do
	case $name in ''|'#'*) continue ;; esac
	total=$((total + 1))
	echo "### BEGIN $name"
	t0=$(date +%s)
	# stdin from /dev/null: the list is on ours.
	timeout "$secs" sh -c "$cmd" </dev/null 2>&1
	rc=$?
	t1=$(date +%s)
	# busybox timeout reports a timeout as death by SIGTERM (143).
	if [ "$rc" -eq 143 ] && [ $((t1 - t0)) -ge "$secs" ]; then
		echo "# payload-run: $name timed out after $secs s"
		rc=124
	fi
	echo "### END $name rc=$rc time=$((t1 - t0))s"
	case $rc in 0|4) ;; *) failed=$((failed + 1)) ;; esac
done <"$list"

echo "payload-run: $total program(s), $failed failed"
[ "$failed" -eq 0 ]
