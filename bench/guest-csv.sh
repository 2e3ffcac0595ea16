#!/bin/sh
# SPDX-License-Identifier: MIT
# In the guest: run a benchmark and print its CSV on the console between
# "### TAG CSV BEGIN" and "### TAG CSV END", which bench/run.sh vm-log and
# bench/stall.sh vm-log read back from the console log.
#
#   guest-csv.sh TAG CSV PROGRAM [ARG...]
#
# CSV is the file PROGRAM writes (printed after it exits), or - when the
# CSV is PROGRAM's output (printed as it comes, after a "# where: guest"
# and a "# kernel:" line).  Exits with PROGRAM's status.
tag=$1 csv=$2
shift 2
echo "### $tag start: $(date -u)"
if [ "$csv" = - ]; then
	echo "### $tag CSV BEGIN"
	echo "# where: guest"
	echo "# kernel: $(uname -sr) $(uname -v)"
	"$@"
	rc=$?
	echo "### $tag CSV END"
	exit $rc
fi
"$@"
rc=$?
echo "### $tag exit status $rc"
if [ -r "$csv" ]; then
	echo "### $tag CSV BEGIN"
	cat "$csv"
	echo "### $tag CSV END"
fi
exit $rc
