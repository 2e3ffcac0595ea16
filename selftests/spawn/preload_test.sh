#!/bin/sh
# SPDX-License-Identifier: MIT
#
# libafork-preload.so under real programs, TAP on stdout.  Host only: it
# needs a dynamically linked libc, GNU make, and optionally ninja and
# python3 (tests skipped when missing).
#
#   PRELOAD=path/libafork-preload.so PROBE=path/preload_probe preload_test.sh
#
# Each program runs twice on the same input, without and with the preload
# library; the results must be the same, and AFORK_PRELOAD_STATS must show
# that the spawns went through afork.
set -u

PRELOAD=${PRELOAD:?PRELOAD=path to libafork-preload.so}
PROBE=${PROBE:?PROBE=path to preload_probe}
TARGETS=${PRELOAD_TEST_TARGETS:-200}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
check() {	# check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
note() { sed 's/^/# /'; }

base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && [ -z "${TMPDIR:-}" ] && base=/dev/shm
tmp=$(mktemp -d "$base/afork-preload-test.XXXXXX") || exit 1
# Run from make check: the makes below must not see the outer one.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..11"

# 1: only libc's five names are exported.
syms=$(nm -D --defined-only "$PRELOAD" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
check "exports exactly posix_spawn posix_spawnp popen pclose system" \
	[ "$syms" = "pclose popen posix_spawn posix_spawnp system " ]
[ "$syms" = "pclose popen posix_spawn posix_spawnp system " ] || echo "# exported: $syms"

# stats FILE: the counts of the process named $2 in FILE.
stat_of() { grep "($2)" "$1" | tail -n 1; }
# via FILE NAME CALL: the count for CALL (posix_spawn, popen, ...).
via() { stat_of "$1" "$2" | sed -n "s/.*[(,] *$3 \([0-9]*\).*/\1/p"; }
fallbacks() { stat_of "$1" "$2" | sed -n 's/.*), \([0-9]*\) fallbacks.*/\1/p'; }

# 2-6: the probe program, same output with and without, on each backend.
probe() {	# probe OUT [env...]
	out=$1
	shift
	rm -rf "$tmp/pd" && mkdir "$tmp/pd"
	(cd "$tmp/pd" && env "$@" "$PROBE" "$tmp/pd" >"$out" 2>/dev/null)
	echo $? >>"$out"
}
probe "$tmp/probe.plain"
for be in auto clone-legacy vfork syscall; do
	rm -f "$tmp/stats"
	probe "$tmp/probe.$be" AFORK_BACKEND=$be AFORK_PRELOAD_STATS="$tmp/stats" LD_PRELOAD="$PRELOAD"
	if ! cmp -s "$tmp/probe.plain" "$tmp/probe.$be"; then
		not_ok "probe program: same results with the preload (AFORK_BACKEND=$be)"
		diff "$tmp/probe.plain" "$tmp/probe.$be" | head -n 40 | note
		continue
	fi
	s=$(stat_of "$tmp/stats" preload_probe)
	echo "# $s"
	if [ "$be" = syscall ] && ! grep -q 'backend syscall' "$tmp/stats"; then
		# No afork system call on this kernel: everything goes to libc.
		case $s in
		*" 0 via afork"*no-backend*) ok "probe program: same results, all to libc without a backend (AFORK_BACKEND=$be)" ;;
		*) not_ok "probe program: fallbacks not counted (AFORK_BACKEND=$be)" ;;
		esac
		continue
	fi
	# The three bad popen modes go to libc on purpose; nothing else.
	case $s in
	*"(posix_spawn 1"[0-9]", posix_spawnp "[0-9]*", popen 8, system 5), 3 fallbacks, popen-mode 3,"*)
		ok "probe program: same results, spawns via afork (AFORK_BACKEND=$be)" ;;
	*)	not_ok "probe program: unexpected counts (AFORK_BACKEND=$be)" ;;
	esac
done

# 7: AFORK_PRELOAD_ASYNC=1: posix_spawn returns before the exec; a failed
# exec is the child's status 127 (POSIX allows it), the rest is the same.
probe "$tmp/probe.async" AFORK_PRELOAD_ASYNC=1 LD_PRELOAD="$PRELOAD"
miss=$(grep '^== missing:' "$tmp/probe.async")
if [ "$miss" = "== missing: ret 0 (ok) pid set status 0x7f00" ] &&
   grep -q '^== missing: ret 2 ' "$tmp/probe.plain" &&
   [ "$(grep -A1 '^== sh args:' "$tmp/probe.async")" = "$(grep -A1 '^== sh args:' "$tmp/probe.plain")" ]; then
	ok "AFORK_PRELOAD_ASYNC=1: a failed exec is status 127 after a successful posix_spawn"
else
	not_ok "AFORK_PRELOAD_ASYNC=1: a failed exec is status 127 after a successful posix_spawn"
	grep -A1 '^== missing:\|^== sh args:' "$tmp/probe.async" | note
fi

# 8-9: GNU make -j4 on a generated tree.
mktree() {	# mktree DIR: $TARGETS leaves, groups of 10, one root
	d=$1
	mkdir -p "$d/src" "$d/out" "$d/grp"
	i=0
	groups=
	while [ $i -lt "$TARGETS" ]; do
		printf 'leaf %d\nabc %d\n' $i $((i * 7)) >"$d/src/$i.in"
		i=$((i + 1))
	done
	{
		echo 'SHELL = /bin/sh'
		echo 'all: all.txt'
		echo 'out/%.txt: src/%.in'
		printf '\t@tr a-z A-Z < $< > $@\n'
		g=0
		while [ $((g * 10)) -lt "$TARGETS" ]; do
			deps=
			j=0
			while [ $j -lt 10 ] && [ $((g * 10 + j)) -lt "$TARGETS" ]; do
				deps="$deps out/$((g * 10 + j)).txt"
				j=$((j + 1))
			done
			echo "grp/$g.txt:$deps"
			# mv has no shell syntax: make spawns it itself.
			printf '\tcat $^ > $@.tmp\n\t@mv $@.tmp $@\n'
			groups="$groups grp/$g.txt"
			g=$((g + 1))
		done
		echo "all.txt:$groups"
		printf '\t@sort $^ | cksum > $@\n'
		echo 'bad:'
		printf '\tno-such-program-anywhere --flag\n'
	} >"$d/Makefile"
}

if command -v make >/dev/null 2>&1 && make --version 2>/dev/null | grep -q 'GNU Make'; then
	mktree "$tmp/m1"
	mktree "$tmp/m2"
	(cd "$tmp/m1" && make -s -j4 >out.log 2>&1; echo "exit $?" >>out.log)
	rm -f "$tmp/stats"
	(cd "$tmp/m2" && AFORK_PRELOAD_STATS="$tmp/stats" LD_PRELOAD="$PRELOAD" \
		make -s -j4 >out.log 2>&1; echo "exit $?" >>out.log)
	s=$(stat_of "$tmp/stats" make)
	echo "# $s"
	spawned=$(via "$tmp/stats" make posix_spawn)
	fb=$(fallbacks "$tmp/stats" make)
	want=$((TARGETS + (TARGETS + 9) / 10 + 1))
	if (cd "$tmp/m1" && cat out.log all.txt grp/*.txt out/*.txt) >"$tmp/m1.all" &&
	   (cd "$tmp/m2" && cat out.log all.txt grp/*.txt out/*.txt) >"$tmp/m2.all" &&
	   cmp -s "$tmp/m1.all" "$tmp/m2.all" &&
	   [ "$(ls "$tmp/m2/out" | wc -l)" -eq "$TARGETS" ]; then
		if [ "${spawned:-0}" -ge "$want" ] && [ "${fb:-1}" -eq 0 ]; then
			ok "GNU make -j4, $want targets: same result, $spawned spawns via afork, no fallback"
		else
			not_ok "GNU make -j4: same result but spawns via afork ${spawned:-none} (want >= $want), fallbacks ${fb:-?}"
		fi
	else
		not_ok "GNU make -j4, $want targets: results differ"
		diff "$tmp/m1.all" "$tmp/m2.all" | head -n 20 | note
	fi
	# A recipe whose program does not exist: posix_spawn's ENOENT, as make reports it.
	(cd "$tmp/m1" && make -j4 bad >bad.log 2>&1; echo "exit $?" >>bad.log)
	(cd "$tmp/m2" && LD_PRELOAD="$PRELOAD" make -j4 bad >bad.log 2>&1; echo "exit $?" >>bad.log)
	if cmp -s "$tmp/m1/bad.log" "$tmp/m2/bad.log"; then
		ok "GNU make: a missing program fails the same way"
	else
		not_ok "GNU make: a missing program fails differently"
		diff "$tmp/m1/bad.log" "$tmp/m2/bad.log" | note
	fi
	sed 's/^/# without: /' "$tmp/m1/bad.log"
else
	skip "GNU make -j4 on a generated tree" "GNU make not installed"
	skip "GNU make: a missing program" "GNU make not installed"
fi

# 9: ninja (Debian's ninja-build spawns every edge with posix_spawn and
# file actions).
if command -v ninja >/dev/null 2>&1; then
	for d in n1 n2; do
		mkdir -p "$tmp/$d/src"
		{
			echo 'rule up'
			echo '  command = tr a-z A-Z < $in > $out'
			echo 'rule cat'
			echo '  command = cat $in > $out'
			i=0
			all=
			while [ $i -lt $((TARGETS / 2)) ]; do
				printf 'ninja %d\n' $i >"$tmp/$d/src/$i.in"
				echo "build out/$i.txt: up src/$i.in"
				all="$all out/$i.txt"
				i=$((i + 1))
			done
			echo "build all.txt: cat$all"
			echo "default all.txt"
		} >"$tmp/$d/build.ninja"
	done
	(cd "$tmp/n1" && ninja -j4 >/dev/null 2>&1; echo "exit $?" >>all.txt)
	rm -f "$tmp/stats"
	(cd "$tmp/n2" && AFORK_PRELOAD_STATS="$tmp/stats" LD_PRELOAD="$PRELOAD" \
		ninja -j4 >/dev/null 2>&1; echo "exit $?" >>all.txt)
	s=$(stat_of "$tmp/stats" ninja)
	echo "# $s"
	spawned=$(via "$tmp/stats" ninja posix_spawn)
	if cmp -s "$tmp/n1/all.txt" "$tmp/n2/all.txt" && [ "${spawned:-0}" -gt $((TARGETS / 2)) ] &&
	   [ "$(fallbacks "$tmp/stats" ninja)" = 0 ]; then
		ok "ninja -j4: same result, $spawned spawns via afork"
	else
		not_ok "ninja -j4: results or counts differ (spawns ${spawned:-none})"
	fi
else
	skip "ninja -j4" "ninja not installed (Debian package ninja-build)"
fi

# 10: python3's os.posix_spawn (file actions, setsid, setsigmask) and os.system.
PY=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -n "$PY" ]; then
	cat >"$tmp/spawn.py" <<'EOF'
import os, signal, sys
r, w = os.pipe()
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "echo py $0; ls /proc/self/fd | wc -l; exit 7", "arg"],
                     {"SPAWNTEST": "1"},
                     file_actions=[(os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_CLOSE, r),
                                   (os.POSIX_SPAWN_OPEN, 5, "/dev/null", os.O_RDONLY, 0)],
                     setsid=True, setsigmask=[signal.SIGUSR1])
os.close(w)
out = b""
while True:  # to EOF: one read may return before the pipeline's output
    chunk = os.read(r, 1000)
    if not chunk:
        break
    out += chunk
print(out.decode().split())
print(os.waitpid(pid, 0)[1] >> 8)
try:
    os.posix_spawn("/nonexistent", ["x"], {})
except OSError as e:
    print("error", e.errno)
print(os.system("exit 3") >> 8)
EOF
	"$PY" "$tmp/spawn.py" >"$tmp/py1" 2>&1
	rm -f "$tmp/stats"
	AFORK_PRELOAD_STATS="$tmp/stats" LD_PRELOAD="$PRELOAD" "$PY" "$tmp/spawn.py" >"$tmp/py2" 2>&1
	s=$(grep "python" "$tmp/stats" | tail -n 1)
	echo "# $s"
	note <"$tmp/py1"
	case $s in
	*"posix_spawn 2,"*"system 1), 0 fallbacks"*) counts=1 ;;
	*) counts=0 ;;
	esac
	if cmp -s "$tmp/py1" "$tmp/py2" && [ $counts = 1 ]; then
		ok "python3 os.posix_spawn and os.system: same results, via afork"
	else
		not_ok "python3 os.posix_spawn and os.system: results or counts differ"
		diff "$tmp/py1" "$tmp/py2" | note
	fi
else
	skip "python3 os.posix_spawn" "python3 not installed"
fi

# 11: the statistics are printed only by processes that spawned.
rm -f "$tmp/stats"
AFORK_PRELOAD_STATS="$tmp/stats" LD_PRELOAD="$PRELOAD" /bin/sh -c 'true; true'
check "no statistics from processes that did not spawn" [ ! -s "$tmp/stats" ]

[ $failed -eq 0 ]
