#!/bin/sh
# Static analysis of libafork: cppcheck and clang-tidy on lib/src and
# lib/uring/src, with the library's own compile flags.
#
#   scripts/lint.sh [-v]
#
# Configuration (repository root): .clang-tidy (checks, with the reasons for
# the ones turned off), .cppcheck-suppressions, and
# scripts/lint-suppressions.txt (clang-tidy findings that are not bugs, by
# file and check, each with its reason).  Output is TAP, one test per tool
# and folder, each finding as a "# file:line: ..." line; the exit status is
# non-zero when anything is found.  -v also shows the suppressed findings.
# Installs cppcheck and clang-tidy when missing (root, Debian).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
verbose=0
[ "${1:-}" = "-v" ] && verbose=1

need=
command -v cppcheck >/dev/null 2>&1 || need="$need cppcheck"
command -v clang-tidy >/dev/null 2>&1 || need="$need clang-tidy"
if [ -n "$need" ] && [ "$(id -u)" -eq 0 ]; then
	echo "# installing:$need" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need \
		>/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $need >/dev/null 2>&1; }
fi

uapi_hdrs=$top/build/uapi-headers/include
lib_flags="-std=gnu11 -D_GNU_SOURCE -Ilib/include -Ilib/src -Iuapi"
uring_flags="-std=gnu11 -D_GNU_SOURCE -Ilib/uring/include -Ilib/uring/src \
-Ilib/include -Ilib/src -Iuapi $(pkg-config --cflags liburing 2>/dev/null)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
echo "TAP version 13"
echo "1..4"

# result NAME FINDINGS_FILE: one TAP line, the findings as diagnostics.
result() {
	n=$((n + 1))
	if [ -s "$2" ]; then
		echo "not ok $n $1: $(wc -l <"$2") finding(s)"
		sed 's/^/# /' "$2"
		failed=$((failed + 1))
	else
		echo "ok $n $1"
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}

# cppcheck DIR FLAGS
run_cppcheck() {
	dir=$1
	shift
	if ! command -v cppcheck >/dev/null 2>&1; then
		n=$((n + 1)); echo "not ok $n cppcheck $dir: cppcheck missing"
		failed=$((failed + 1))
		return
	fi
	# shellcheck disable=SC2086  # the flags are words
	cppcheck --enable=warning,style,performance,portability --std=c11 \
		--library=gnu --inline-suppr --quiet -D__x86_64__ -D__linux__ \
		--suppressions-list=.cppcheck-suppressions \
		--template='{file}:{line}: {severity} ({id}): {message}' \
		"$@" "$dir" >"$tmp/out" 2>&1
	grep -v '^$' "$tmp/out" >"$tmp/cpp" || true
	result "cppcheck $dir" "$tmp/cpp"
}

# Drop the findings scripts/lint-suppressions.txt explains.
suppress() {
	awk -v verbose="$verbose" '
		FNR == NR {
			if ($0 ~ /^[ \t]*(#|$)/) next
			file[++ns] = $1; check[ns] = $2
			next
		}
		{
			hit = 0
			if (match($0, /\[[^]]*\]$/)) {
				c = substr($0, RSTART + 1, RLENGTH - 2)
				sub(/,-warnings-as-errors/, "", c)
				split($0, parts, ":")
				for (i = 1; i <= ns; i++) {
					f = file[i]
					if (c == check[i] && substr(parts[1], length(parts[1]) - length(f) + 1) == f)
						hit = 1
				}
			}
			if (!hit) print
			else if (verbose) print "suppressed: " $0 > "/dev/stderr"
		}' scripts/lint-suppressions.txt -
}

# clang-tidy DIR FLAGS
run_tidy() {
	dir=$1
	flags=$2
	if ! command -v clang-tidy >/dev/null 2>&1; then
		n=$((n + 1)); echo "not ok $n clang-tidy $dir: clang-tidy missing"
		failed=$((failed + 1))
		return
	fi
	: >"$tmp/tidy"
	for f in "$dir"/*.c; do
		extra=
		case $f in
		*/uring/src/check_uapi.c)
			# Checks the opcodes against the 7.3 uapi headers (make -C qemu headers).
			[ -r "$uapi_hdrs/linux/io_uring.h" ] || continue
			extra="-I$uapi_hdrs" ;;
		esac
		# shellcheck disable=SC2086
		clang-tidy --quiet --config-file=.clang-tidy "$f" -- $extra $flags \
			>"$tmp/one" 2>&1
		grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$tmp/one" |
			sed "s|^$top/||" >>"$tmp/tidy"
	done
	suppress <"$tmp/tidy" >"$tmp/left"
	result "clang-tidy $dir" "$tmp/left"
}

run_cppcheck lib/src -D_GNU_SOURCE -Ilib/include -Ilib/src -Iuapi
if [ -d lib/uring/src ]; then
	run_cppcheck lib/uring/src -D_GNU_SOURCE -Ilib/uring/include -Ilib/uring/src \
		-Ilib/include -Ilib/src -Iuapi
else
	skip "cppcheck lib/uring/src" "no lib/uring"
fi
run_tidy lib/src "$lib_flags"
if [ -d lib/uring/src ]; then
	run_tidy lib/uring/src "$uring_flags"
else
	skip "clang-tidy lib/uring/src" "no lib/uring"
fi

[ "$failed" -eq 0 ]
