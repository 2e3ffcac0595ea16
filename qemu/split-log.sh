#!/bin/sh
# Cut a guest console log into one TAP file per test program.
#
#   qemu/split-log.sh LOG OUTDIR
#
# Uses the "### BEGIN name" / "### END name rc=N" frames of payload-run.sh
# and writes OUTDIR/name.tap with the program's output, minus the kernel's
# console messages (timestamped lines), followed by the frame's rc as a
# comment line "# rc=N" that scripts/summary.sh reads.  A program whose END
# is missing (the guest died under it) gets "# rc=missing".  A non-zero rc
# other than 4 (skip) with no failing test line is counted as a failure by
# summary.sh.
set -eu

log=$1
out=$2
mkdir -p "$out"

tr -d '\000\r' <"$log" | awk -v out="$out" '
	function close_cur(rc) {
		print "# rc=" rc > file
		close(file)
		cur = ""
	}
	/^### BEGIN / {
		if (cur != "")
			close_cur("missing")
		cur = $3
		file = out "/" cur ".tap"
		printf "" > file
		next
	}
	/^### END / {
		if (cur == $3) {
			rc = $4
			sub(/^rc=/, "", rc)
			close_cur(rc)
		}
		next
	}
	cur != "" && !/^\[ *[0-9]+\.[0-9]+\] / { print > file }
	END {
		if (cur != "")
			close_cur("missing")
	}'
