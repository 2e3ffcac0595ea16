# SPDX-License-Identifier: MIT
# TAP output for the check scripts (scripts/check-sources.sh,
# scripts/check-objects.sh), sourced after "set -u" and before any check:
#
#   . "$top/scripts/tap-results.sh"
#   tap_begin OUTDIR NAME     OUTDIR/NAME.tap; $tmp, a scratch folder
#   result OK|FAIL|SKIP DESCRIPTION [REASON]
#   echo "# ..." >>"$tmp/diag"   diagnostics, printed after the results
#   tap_end                   writes and prints the TAP; fails if a check failed

# tap_begin OUTDIR NAME
tap_begin() {
	mkdir -p "$1"
	tap=$1/$2.tap
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	n=0
	results=()
}

# result OK|FAIL|SKIP DESCRIPTION [REASON]
result() {
	n=$((n + 1))
	case $1 in
	OK)   results+=("ok $n $2") ;;
	FAIL) results+=("not ok $n $2") ;;
	SKIP) results+=("ok $n $2 # SKIP $3") ;;
	esac
}

tap_end() {
	{
		echo "TAP version 13"
		echo "1..$n"
		printf '%s\n' "${results[@]}"
		[ -f "$tmp/diag" ] && cat "$tmp/diag"
	} >"$tap"
	cat "$tap"
	! grep -q '^not ok' "$tap"
}
