#!/bin/sh
# Lay config fragments over one another.
#
#   qemu/overlay-config.sh BASE OVERLAY... >RESULT
#
# Prints BASE without the lines that set an option some OVERLAY also names
# (CONFIG_X=... or "# CONFIG_X is not set"), then each OVERLAY whole.  Later
# overlays win over earlier ones the same way.  This is how
# build/kbuild-bench.config (guest.config, then bench.config) and the arm64
# fragments (guest.config, then guest-arm64.config [, then bench.config])
# are made, so that check-config.sh sees every option exactly once.
set -eu

[ $# -ge 1 ] || { echo "usage: overlay-config.sh BASE OVERLAY..." >&2; exit 2; }

# drop OVERLAY FILE: FILE without the lines naming an option OVERLAY sets.
drop() {
	awk 'FNR == NR { if (match($0, /CONFIG_[A-Za-z0-9_]+/)) \
			drop[substr($0, RSTART, RLENGTH)] = 1; next } \
		match($0, /^(# )?CONFIG_[A-Za-z0-9_]+[= ]/) { \
			if (match($0, /CONFIG_[A-Za-z0-9_]+/) && \
			    (substr($0, RSTART, RLENGTH) in drop)) next } \
		{ print }' "$1" "$2"
}

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.next"' EXIT
cat "$1" >"$tmp"
shift
for o in "$@"; do
	drop "$o" "$tmp" >"$tmp.next"
	cat "$o" >>"$tmp.next"
	mv "$tmp.next" "$tmp"
done
cat "$tmp"
