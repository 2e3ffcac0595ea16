#!/bin/sh
# Build the kernel's own clone3 and pidfd selftests as static binaries.
#
#   qemu/build-ksft.sh SRCDIR UAPI_HEADERS OUTDIR
#
# Uses the selftests' own Makefiles (lib.mk) from the patched tree SRCDIR,
# against the uapi headers installed from that tree (UAPI_HEADERS/include),
# and puts the programs in OUTDIR/clone3/ and OUTDIR/pidfd/.  The libcap
# that clone3_cap_checkpoint_restore needs comes from libcap-dev's libcap.a.
#
# Cross builds (the arm64 guest): CROSS_COMPILE in the environment picks the
# compiler (lib.mk uses $(CROSS_COMPILE)gcc), and KSFT_CFLAGS / KSFT_LDFLAGS
# add to the flags (the arm64 libcap.a and its header, which
# qemu/fetch-sysroot.sh unpacks under build/sysroot-arm64).
set -eu

src=$1
uapi=$2
out=$3

echo "==> building the kernel's clone3 and pidfd selftests (static)"
for t in clone3 pidfd; do
	mkdir -p "$out/$t"
	# CFLAGS/LDFLAGS from the environment: the Makefiles append to them.
	CFLAGS="-O2${KSFT_CFLAGS:+ $KSFT_CFLAGS}" LDFLAGS="-static${KSFT_LDFLAGS:+ $KSFT_LDFLAGS}" \
	make --no-print-directory -s -C "$src/tools/testing/selftests/$t" \
		OUTPUT="$out/$t" KHDR_INCLUDES="-isystem $uapi/include" \
		${V:+V=$V} >"$out/$t.log" 2>&1 ||
	{ cat "$out/$t.log" >&2; echo "build-ksft: $t failed" >&2; exit 1; }
done
