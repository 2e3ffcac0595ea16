#!/bin/sh
# Lay out the guest payload of the kernel's clone3 and pidfd selftests.
#
#   qemu/ksft-payload.sh KSFT_BUILD PAYLOAD_DIR
#
# PAYLOAD_DIR gets ksft/<program>, a tests.list for qemu/payload-run.sh and
# that script as `run`, so it also boots on its own with
# `make -C qemu vm-run PAYLOAD=build/vm-payload-ksft`.  The top-level
# Makefile merges tests.list and ksft/ into the project's payload.
#
# Not run, on purpose (it would otherwise show up as a pass or a failure):
#   pidfd_test   its pid-recycling case forks until pids wrap past 1000
#                and takes over 5 minutes under TCG with KASAN + lockdep.
# See EXCLUDED below for the current list and reasons.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$1
dest=$2

# name  timeout(s)  -- one line per program that runs in the guest.  The
# timeouts are generous multiples of what the TCG guest needs.
TESTS='
clone3                          120 clone3
clone3_clear_sighand            60  clone3
clone3_set_tid                  180 clone3
clone3_cap_checkpoint_restore   60  clone3
pidfd_fdinfo_test               120 pidfd
pidfd_open_test                 60  pidfd
pidfd_poll_test                 120 pidfd
pidfd_wait                      120 pidfd
pidfd_getfd_test                120 pidfd
pidfd_setns_test                120 pidfd
'
EXCLUDED='pidfd_test'

rm -rf "$dest"
mkdir -p "$dest/ksft"
: >"$dest/tests.list"
echo "$TESTS" | while read -r name secs dir; do
	[ -n "$name" ] || continue
	# Stripped: a smaller initramfs unpacks faster in the slow guest.
	strip -o "$dest/ksft/$name" "$build/$dir/$name"
	echo "$name $secs ./ksft/$name" >>"$dest/tests.list"
done
cp "$here/payload-run.sh" "$dest/run"
chmod +x "$dest/run"
echo "# excluded: $EXCLUDED (see qemu/ksft-payload.sh)" >>"$dest/tests.list"
