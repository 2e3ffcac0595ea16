#!/usr/bin/env bash
# Source-level checks, as TAP into OUTDIR/sources.tap:
#  - uapi/linux/afork.h is byte-identical to the header the series adds;
#  - selftests/afork/ is the same source as the series' selftests;
#  - the uapi header compiles alone as C89, C99 and C++ (gcc and clang)
#    with -Wall -Wextra -Werror, needing no kernel header but linux/types.h;
#  - checkpatch.pl --strict is clean on every patch (needs build/linux).
#
#   scripts/check-sources.sh OUTDIR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: $0 OUTDIR}
# shellcheck source=scripts/tap-results.sh
. "$top/scripts/tap-results.sh"
tap_begin "$out" sources
cd "$top"

# The text of FILE as the series adds it (new files only).
from_series() {
	awk -v f="$1" '
		$0 == "+++ b/" f { grab = 1; next }
		grab && /^@@/ { next }
		grab && /^(diff --git|-- $)/ { grab = 0 }
		grab && /^\+/ { print substr($0, 2) }
	' kernel-patch/0*.patch
}

from_series include/uapi/linux/afork.h >"$tmp/afork.h"
if [ -s "$tmp/afork.h" ] && cmp -s "$tmp/afork.h" uapi/linux/afork.h; then
	result OK "uapi/linux/afork.h is the header the series adds"
else
	diff -u "$tmp/afork.h" uapi/linux/afork.h | head -20 | sed 's/^/# /' >>"$tmp/diag"
	result FAIL "uapi/linux/afork.h is the header the series adds"
fi

same=1
for f in selftests/afork/* selftests/afork/.gitignore; do
	[ -f "$f" ] || continue
	from_series "tools/testing/selftests/afork/${f#selftests/afork/}" >"$tmp/f"
	if ! cmp -s "$tmp/f" "$f"; then
		echo "# $f differs from the series" >>"$tmp/diag"
		same=0
	fi
done
[ $same = 1 ] && result OK "selftests/afork is the source the series carries" ||
	result FAIL "selftests/afork is the source the series carries"

cat >"$tmp/t.c" <<'PROG'
#include <linux/afork.h>
#include <stddef.h>
#include <string.h>
int main(void)
{
	struct afork_args a;

	memset(&a, 0, sizeof(a));
	a.flags = AFORK_NOSIGCHLD | AFORK_WAITPID | AFORK_PIDFD | AFORK_SETTLS |
		  AFORK_INTO_CGROUP | AFORK_NNP | AFORK_PIDFD_AUTOKILL | AFORK_AUTOREAP;
	/* 0 when the flags and the published size are what they must be. */
	return (int)(a.flags - 0xff) + (int)(sizeof(a) - AFORK_ARGS_SIZE_VER1) +
	       (int)(offsetof(struct afork_args, tls) - AFORK_ARGS_SIZE_VER0);
}
PROG
cp "$tmp/t.c" "$tmp/t.cc"
for cc in gcc clang; do
	for std in c89 c99; do
		if $cc -std=$std -Wall -Wextra -Werror -Iuapi -o "$tmp/t" "$tmp/t.c" 2>"$tmp/err" && "$tmp/t"; then
			result OK "uapi header compiles and runs as $std with $cc"
		else
			sed 's/^/# /' "$tmp/err" >>"$tmp/diag"
			result FAIL "uapi header compiles and runs as $std with $cc"
		fi
	done
	cxx=$([ $cc = gcc ] && echo g++ || echo clang++)
	if $cxx -Wall -Wextra -Werror -Iuapi -o "$tmp/t" "$tmp/t.cc" 2>"$tmp/err" && "$tmp/t"; then
		result OK "uapi header compiles and runs as C++ with $cxx"
	else
		sed 's/^/# /' "$tmp/err" >>"$tmp/diag"
		result FAIL "uapi header compiles and runs as C++ with $cxx"
	fi
done

cp=build/linux/scripts/checkpatch.pl
if [ -f "$cp" ]; then
	for p in kernel-patch/0*.patch; do
		# No Signed-off-by in the series: the person who submits it adds
		# theirs (DCO), as the cover letter says.
		if (cd build/linux && perl scripts/checkpatch.pl --strict --no-tree -q \
			--ignore MISSING_SIGN_OFF "$top/$p") >"$tmp/cp" 2>&1; then
			result OK "checkpatch --strict clean: ${p#kernel-patch/}"
		else
			sed 's/^/# /' "$tmp/cp" | head -20 >>"$tmp/diag"
			result FAIL "checkpatch --strict clean: ${p#kernel-patch/}"
		fi
	done
else
	result SKIP "checkpatch --strict on the series" "no kernel tree yet (build/linux); the guest stage extracts it"
fi

tap_end
