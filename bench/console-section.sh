#!/bin/sh
# SPDX-License-Identifier: MIT
# Print what a guest program printed on the console between "### NAME
# BEGIN" and "### NAME END" (bench/guest-csv.sh writes such sections),
# without carriage returns, NULs and the kernel's own messages
# ("[    1.234] ...") that the console interleaves.  Fails, printing
# nothing useful, when the section is missing or was cut short.
#
#   bench/console-section.sh LOG NAME >FILE      e.g. NAME="afork-bench CSV"
set -eu
[ $# -eq 2 ] || { sed -n '3,9p' "$0" >&2; exit 2; }
tr -d '\000\r' <"$1" | awk -v name="$2" '
	$0 == "### " name " BEGIN" { on = 1; seen = 1; next }
	$0 == "### " name " END" { on = 0; done = 1; next }
	on && !/^\[ *[0-9]+\.[0-9]+\] / { print }
	END { exit !(seen && done) }' || {
	echo "console-section: no complete \"$2\" section in $1" >&2
	exit 1
}
