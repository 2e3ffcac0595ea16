#!/bin/sh
# Lay out the guest payload of make check (with qemu/payload.sh): the static
# test programs built under build/guest/ and the kernel's clone3 and pidfd
# selftests (build/vm-payload-ksft, from qemu/ksft-payload.sh).
#
#   scripts/guest-payload.sh PAYLOAD_DIR
#
# Another guest architecture (make ... ARCH=arm64) names its folders in the
# environment: GUEST_ARCH=arm64, GUEST_DIR (build/guest-arm64) and
# KSFT_PAYLOAD (build/vm-payload-ksft-arm64).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
g=${GUEST_DIR:-$top/build/guest}
dest=$1
payload=$top/qemu/payload.sh

"$payload" init "$dest"

# The system call's own tests first: if they fail, the rest means little.
for t in afork_args_test afork_test afork_wait_test afork_v2_test afork_edge_test; do
	"$payload" add "$dest" "$t" 300 "$g/afork/$t"
done

# The debugger tests run the host's gdb, carried in the payload; for a guest
# of another architecture there is none, and those tests skip there.
case ${GUEST_ARCH:-}:$(uname -m) in
:*|arm64:aarch64|x86_64:x86_64) "$top/scripts/gdb-payload.sh" "$dest/gdb" ;;
*) echo "guest-payload: no gdb for the $GUEST_ARCH guest: its gdb tests skip" >&2 ;;
esac

# The library's tests, every backend this kernel offers.  Under TCG with
# KASAN a process costs ~50x what it does on the host: the 8-thread leak
# test runs 100 rounds per thread here (1000 on the host).
for t in "$g"/selftests/lib/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	name=lib-$(basename "$t")
	case $name in
	lib-afork_gdb_test)
		# shellcheck disable=SC2016  # $PATH is the guest's
		"$payload" add "$dest" "$name" 900 "$t" AFORK_TEST_ROUNDS=100 \
			'PATH=/payload/gdb/bin:$PATH' ;;
	*)	"$payload" add "$dest" "$name" 900 "$t" AFORK_TEST_ROUNDS=100 ;;
	esac
done

# Layers on top of the library, when built (each folder has static
# binaries).  The uring test's forced-path variants run 200 children each
# here (2,000 on the host); the variant on the automatic paths runs the
# full 2,000.
for d in uring spawn fuzz stress; do
	[ -d "$g/selftests/$d" ] || continue
	for t in "$g/selftests/$d"/*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		name=$d-$(basename "$t")
		case $name in
		uring-afork_uring_test)
			"$payload" add "$dest" "$name" 1200 "$t" \
				AFORK_URING_TEST_CHILDREN_FORCED=200 ;;
		*)	"$payload" add "$dest" "$name" 1200 "$t" ;;
		esac
	done
done

# Programs the tests run (they look for them beside themselves).
[ ! -x "$g/examples/uring-spawner" ] || "$payload" file "$dest" "$g/examples/uring-spawner"

# Regression: the kernel's clone3 and pidfd selftests on the same kernel.
ksft=${KSFT_PAYLOAD:-$top/build/vm-payload-ksft}
[ -f "$ksft/tests.list" ] && "$payload" merge "$dest" "$ksft"

echo "==> guest payload: $(grep -vc '^#' "$dest/tests.list") programs in ${dest#"$top"/}"
