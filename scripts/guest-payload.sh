#!/bin/sh
# Lay out the guest payload of make check: the static test programs built
# under build/guest/, the kernel's clone3 and pidfd selftests
# (build/vm-payload-ksft, from qemu/ksft-payload.sh), a tests.list naming
# them all, and qemu/payload-run.sh as /payload/run.
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

rm -rf "$dest"
mkdir -p "$dest/bin"
cp "$top/qemu/payload-run.sh" "$dest/run"
list=$dest/tests.list
: >"$list"

# add NAME TIMEOUT BINARY [ARGS...]: copy BINARY into the payload as
# bin/NAME (names are unique, binaries of different suites may not be)
# and run it.
add() {
	name=$1 secs=$2 bin=$3
	shift 3
	cp "$bin" "$dest/bin/$name"
	echo "$name $secs /payload/bin/$name${*:+ $*}" >>"$list"
}

# The system call's own tests first: if they fail, the rest means little.
for t in afork_args_test afork_test afork_wait_test afork_v2_test afork_edge_test; do
	add "$t" 300 "$g/afork/$t"
done

# The library's tests, every backend this kernel offers.  Under TCG with
# KASAN a process costs ~50x what it does on the host: the 8-thread leak
# test runs 100 rounds per thread here (1000 on the host).
for t in "$g"/selftests/lib/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	add "lib-$(basename "$t")" 900 "$t"
done
sed -i 's|^\(lib-[^ ]* [0-9]*\) |\1 AFORK_TEST_ROUNDS=100 |' "$list"
# The debugger tests run the host's gdb, carried in the payload; for a guest
# of another architecture there is none, and those tests skip there.
case ${GUEST_ARCH:-}:$(uname -m) in
:*|arm64:aarch64|x86_64:x86_64) "$top/scripts/gdb-payload.sh" "$dest/gdb" ;;
*) echo "guest-payload: no gdb for the $GUEST_ARCH guest: its gdb tests skip" >&2 ;;
esac
sed -i 's|^\(lib-afork_gdb_test [0-9]*\) |\1 PATH=/payload/gdb/bin:$PATH |' "$list"

# Layers on top of the library, when built (each folder has static binaries).
for d in uring spawn fuzz stress; do
	[ -d "$g/selftests/$d" ] || continue
	for t in "$g/selftests/$d"/*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		add "$d-$(basename "$t")" 1200 "$t"
	done
done

# The uring test's forced-path variants run 200 children each here (2,000
# on the host); the variant on the automatic paths runs the full 2,000.
sed -i 's|^\(uring-afork_uring_test [0-9]*\) |\1 AFORK_URING_TEST_CHILDREN_FORCED=200 |' "$list"

# Programs the tests run (they look for them beside themselves).
for e in uring-spawner; do
	[ -x "$g/examples/$e" ] && cp "$g/examples/$e" "$dest/bin/"
done

# Regression: the kernel's clone3 and pidfd selftests on the same kernel.
ksft=${KSFT_PAYLOAD:-$top/build/vm-payload-ksft}
if [ -f "$ksft/tests.list" ]; then
	cp -r "$ksft/ksft" "$dest/"
	grep -v '^#' "$ksft/tests.list" | sed '/^$/d' >>"$list"
fi

echo "==> guest payload: $(grep -c . "$list") programs in ${dest#"$top"/}"
