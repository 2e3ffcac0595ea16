#!/bin/sh
# Tests of the guest runner (make -C qemu selftest).
#
#   qemu/tests/run-tests.sh [--unit]
#
# Unit tests (no VM): scripts/summary.sh, qemu/split-log.sh and
# qemu/scan-splats.sh on the canned logs in tests/data/ (arm64.log: the
# arm64 guest's wording of an oops).
# VM tests (need the kernel built, ~1 min each under TCG): boot payloads
# from tests/payloads/ and check what the host concludes:
#   pass     two TAP programs via payload-run.sh: exit 0, summary counts them
#   fail3    payload exits 3: host exits 3
#   warn     kernel WARN() via LKDTM: host fails although the payload passed
#   kasan    use-after-free via LKDTM: KASAN reports, host fails
#   panic    kernel panic: no verdict, host fails
#   timeout  payload hangs: /init kills it after TIMEOUT, host exits 124
#   binary   /payload/run is a static binary: it is executed, its status
#            reaches the host
#   shebang  /payload/run is an awk script: its #! line is honoured
#   nosemihosting (arm64 only) QEMU refuses /init's semihosting exit: the
#            host reports no verdict at once
#
# Output is TAP (the plan comes last), so make check counts every case;
# the exit status is 0 only when all passed.
#
# GUEST_ARCH=arm64 in the environment (make -C qemu selftest ARCH=arm64):
# the VM tests boot the arm64 guest (build/kbuild-arm64, QEMU virt, the
# verdict by semihosting) and build the binary payload with TCC (the cross
# compiler); the output goes to build/qemu-arm64/selftest.
set -u
# A make check T=... or an ARM64=ci run exports the subset for the summary
# line; the summary tests below expect lines without it.
unset AFORK_SUBSET

here=$(cd "$(dirname "$0")" && pwd)
qemu=$(dirname "$here")
root=$(dirname "$qemu")
garch=${GUEST_ARCH:-}
case $garch in
'')
	out=$root/build/qemu/selftest
	kimage=$root/build/kbuild/arch/x86/boot/bzImage
	runarch='' makearch='' tcc=${CC:-cc} ;;
arm64)
	out=$root/build/qemu-arm64/selftest
	kimage=$root/build/kbuild-arm64/arch/arm64/boot/Image
	runarch="--arch arm64" makearch=ARCH=arm64 tcc=${TCC:-aarch64-linux-gnu-gcc} ;;
*)
	echo "run-tests: unknown GUEST_ARCH '$garch'" >&2; exit 2 ;;
esac
rm -rf "$out"
mkdir -p "$out"

fails=0
n=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); echo "not ok $n - $*"; fails=$((fails + 1)); }

# expect WHAT EXPECTED_STATUS ACTUAL_STATUS
expect() {
	if [ "$3" -eq "$2" ]; then pass "$1 (status $3)"; else fail "$1: status $3, wanted $2"; fi
}
# expect_nonzero WHAT ACTUAL_STATUS
expect_nonzero() {
	if [ "$2" -ne 0 ]; then pass "$1 (status $2)"; else fail "$1: status 0, wanted failure"; fi
}
# expect_grep WHAT PATTERN FILE
expect_grep() {
	if grep -q -- "$2" "$3"; then pass "$1"; else fail "$1: no '$2' in $3"; fi
}

echo "# unit tests (canned logs)"
data=$here/data

"$qemu/scan-splats.sh" "$data/clean.log" >"$out/scan-clean.txt" 2>&1
expect "scan-splats: clean log passes" 0 $?
"$qemu/scan-splats.sh" "$data/console.log" >"$out/scan-dirty.txt" 2>&1
expect "scan-splats: log with splats fails" 1 $?
expect_grep "scan-splats: finds WARNING inside test 'bad'" '\[bad\] .*WARNING: CPU' "$out/scan-dirty.txt"
expect_grep "scan-splats: finds KASAN mixed into a TAP line" 'BUG: KASAN' "$out/scan-dirty.txt"
expect_grep "scan-splats: finds the taint reported by /init" 'kernel tainted' "$out/scan-dirty.txt"
if grep -q 'test talking' "$out/scan-dirty.txt"; then
	fail "scan-splats: flagged user-space output"
else
	pass "scan-splats: ignores user-space 'WARNING:'"
fi
expect_grep "scan-splats: counts 4 lines" '4 suspicious' "$out/scan-dirty.txt"
# arm64 words its reports its own way (tests/data/arm64.log: an LKDTM
# ACCESS_NULL oops from the arm64 guest, and a stack dump whose header
# was lost).
"$qemu/scan-splats.sh" "$data/arm64.log" >"$out/scan-arm64.txt" 2>&1
expect "scan-splats: arm64 log with splats fails" 1 $?
expect_grep "scan-splats: finds arm64's 'Unable to handle kernel'" \
	'\[nullderef\] .*Unable to handle kernel NULL pointer' "$out/scan-arm64.txt"
expect_grep "scan-splats: finds arm64's 'Internal error: Oops'" \
	'\[nullderef\] .*Internal error: Oops' "$out/scan-arm64.txt"
expect_grep "scan-splats: finds arm64's 'Call trace:' alone" '\[stack\] .*Call trace:' "$out/scan-arm64.txt"
if grep -q 'user space may print' "$out/scan-arm64.txt"; then
	fail "scan-splats: flagged user-space 'Call trace:'"
else
	pass "scan-splats: ignores user-space 'Call trace:'"
fi
expect_grep "scan-splats: counts 4 arm64 lines" '4 suspicious' "$out/scan-arm64.txt"

"$qemu/split-log.sh" "$data/console.log" "$out/split"
expect "split-log: runs" 0 $?
for t in good bad crashed hung skipall mixedline lost; do
	[ -f "$out/split/$t.tap" ] || fail "split-log: no $t.tap"
done
expect_grep "split-log: rc recorded" '^# rc=139$' "$out/split/crashed.tap"
expect_grep "split-log: missing END recorded" '^# rc=missing$' "$out/split/lost.tap"
if grep -q 'random: crng' "$out/split/good.tap"; then
	fail "split-log: kernel lines left in the TAP"
else
	pass "split-log: kernel lines removed"
fi

"$root/scripts/summary.sh" "$out/split" >"$out/summary.txt" 2>&1
expect "summary: failures make it exit 1" 1 $?
last=$(tail -n 1 "$out/summary.txt")
if [ "$last" = "afork: 6 passed, 4 failed, 2 skipped" ]; then
	pass "summary: counts ($last)"
else
	fail "summary: last line '$last', wanted 'afork: 6 passed, 4 failed, 2 skipped'"
fi
expect_grep "summary: names the failing case" 'FAIL  bad: global.second' "$out/summary.txt"
expect_grep "summary: short program" 'FAIL  crashed: only 1 of 4 results' "$out/summary.txt"
expect_grep "summary: hung program" 'FAIL  hung: only 0 of 1 results' "$out/summary.txt"
expect_grep "summary: skip reason" 'SKIP  good: global.second (not today)' "$out/summary.txt"
expect_grep "summary: whole-program skip" 'SKIP  skipall: no afork syscall here' "$out/summary.txt"

mkdir -p "$out/empty/x"
: >"$out/empty/x/silent.tap"
"$root/scripts/summary.sh" "$out/empty" >"$out/summary-empty.txt" 2>&1
expect "summary: an empty TAP file fails" 1 $?
expect_grep "summary: empty file named" 'FAIL  silent: no TAP plan' "$out/summary-empty.txt"
"$root/scripts/summary.sh" "$out/nothing-here" >/dev/null 2>&1
expect "summary: no TAP files at all fails" 1 $?
printf 'TAP version 13\n1..1\nok 1 fine\n# rc=0\n' >"$out/empty/x/silent.tap"
"$root/scripts/summary.sh" "$out/empty" >"$out/summary-ok.txt" 2>&1
expect "summary: all passing exits 0" 0 $?
expect_grep "summary: exact last line" '^afork: 1 passed, 0 failed, 0 skipped$' "$out/summary-ok.txt"
printf 'TAP version 13\n1..1\nok 1 fine\n# rc=139\n' >"$out/empty/x/silent.tap"
"$root/scripts/summary.sh" "$out/empty" >"$out/summary-rc.txt" 2>&1
expect "summary: bad exit status without failing line fails" 1 $?

# select-tests.sh (make T=...) on a made-up payload.  Its "harness
# program" is a script that prints what kselftest_harness.h prints for -l.
sel=$out/select
mkdir -p "$sel/bin" "$sel/ksft"
cat >"$sel/bin/afork_test" <<'EOF2'
#!/bin/sh
# Usage text of the harness, by which select-tests.sh knows it: "-l       list all tests"
[ "$1" = -l ] || exit 1
{
printf '%-20s %-25s %s\n' "# FIXTURE" VARIANT TEST
printf '%-20s %-25s %s\n' afork "" release_on_exit
printf '%-20s %-25s %s\n' "" "" release_on_exec
printf '%-20s %-25s %s\n' "" "" no_release_before_exit
echo ----------
printf '%-20s %-25s %s\n' a_fixture_name_longer_than_20 clone3 release_x
printf '%-20s %-25s %s\n' "" a_variant_name_longer_than_25 other
} >&2
exit 4
EOF2
# Not a harness program: it must never be run on the host.
printf '#!/bin/sh\ntouch "$(dirname "$0")/../clone3-ran"\nexit 1\n' >"$sel/ksft/clone3"
chmod +x "$sel/bin/afork_test" "$sel/ksft/clone3"
cat >"$sel/tests.orig" <<'EOF2'
afork_test 300 /payload/bin/afork_test
afork_wait_test 300 /payload/bin/afork_wait_test
lib-afork_test 900 AFORK_TEST_ROUNDS=100 /payload/bin/lib-afork_test
clone3 120 ./ksft/clone3
clone3_set_tid 300 ./ksft/clone3_set_tid
EOF2
# select PATTERNS: run select-tests.sh on a fresh copy of the list.
select_() { cp "$sel/tests.orig" "$sel/tests.list"; "$qemu/select-tests.sh" "$sel" "$1" >"$sel/out" 2>&1; }
select_ afork
expect "select-tests: a program pattern" 0 $?
if [ "$(grep -v '^#' "$sel/tests.list" | cut -d' ' -f1 | tr '\n' ' ')" = "afork_test afork_wait_test " ]; then
	pass "select-tests: 'afork' is the start of a name (not lib-afork_test)"
else
	fail "select-tests: 'afork' selected: $(cut -d' ' -f1 "$sel/tests.list" | tr '\n' ' ')"
fi
select_ 'afork.release_*'
expect "select-tests: a case pattern" 0 $?
expect_grep "select-tests: only the matching cases, by -r" \
	'^afork_test 300 /payload/bin/afork_test -r afork.release_on_exit -r afork.release_on_exec$' "$sel/tests.list"
if [ "$(grep -vc '^#' "$sel/tests.list")" = 1 ]; then
	pass "select-tests: programs without a matching case left out"
else
	fail "select-tests: $(grep -vc '^#' "$sel/tests.list") programs kept"
fi
select_ '*.clone3.release_? clone3_set*'
expect "select-tests: long names, variants, several patterns" 0 $?
expect_grep "select-tests: FIXTURE.VARIANT.TEST with names wider than the columns" \
	'-r a_fixture_name_longer_than_20.clone3.release_x$' "$sel/tests.list"
expect_grep "select-tests: a second pattern adds a program" '^clone3_set_tid ' "$sel/tests.list"
if [ -e "$sel/clone3-ran" ]; then
	fail "select-tests: ran a program that is not a harness program"
else
	pass "select-tests: asks only harness programs for their cases"
fi
select_ 'afork.release_on_exi[!x]'
expect_grep "select-tests: bracket globs in case patterns" \
	'/afork_test -r afork.release_on_exit$' "$sel/tests.list"
select_ nothing_like_this
expect "select-tests: no match fails" 1 $?
expect_grep "select-tests: says what did not match" "nothing in the payload matches" "$sel/out"
mkdir -p "$out/subset/x"
printf 'TAP version 13\n1..1\nok 1 fine\n# rc=0\n' >"$out/subset/x/one.tap"
AFORK_SUBSET=afork "$root/scripts/summary.sh" "$out/subset" >"$out/summary-subset.txt" 2>&1
"$root/scripts/summary.sh" "$out/subset" "$out/no-such-part" >"$out/summary-part.txt" 2>&1
expect "summary: a part that wrote no TAP file fails the run" 1 $?
expect_grep "summary: names the part that did not run" 'no TAP files under .*no-such-part' "$out/summary-part.txt"
expect_grep "summary: a subset run says so in its last line" \
	'^afork: 1 passed, 0 failed, 0 skipped (a subset: T=afork)$' "$out/summary-subset.txt"

# ksft-retry.sh on a fake harness program: "flaky" fails its first run
# only, "always" every run, "skipped" skips with exit status 0.
rt=$out/retry
mkdir -p "$rt"
cat >"$rt/prog" <<'EOF2'
#!/bin/sh
c=$2
n=$(($(cat "$0.$c" 2>/dev/null || echo 0) + 1))
echo "$n" >"$0.$c"
echo "TAP version 13"; echo "1..1"
case $c in
skipped) echo "ok 1 global.$c # SKIP not here"; exit 0 ;;
always) echo "not ok 1 global.$c"; exit 1 ;;
racy) echo "# prog.c:1:racy:Expected the race lost"; echo "not ok 1 global.$c"; exit 1 ;;
flaky) [ "$n" -ge 2 ] || { echo "not ok 1 global.$c"; exit 1; } ;;
esac
echo "ok 1 global.$c"
EOF2
chmod +x "$rt/prog"
"$qemu/ksft-retry.sh" 3 "$rt/prog" flaky skipped >"$rt/ok.tap" 2>&1
expect "ksft-retry: a case that passes on a retry passes" 0 $?
expect_grep "ksft-retry: says which attempt passed" '^# flaky: passed on attempt 2$' "$rt/ok.tap"
expect_grep "ksft-retry: a skip stays a skip" '^ok 2 global.skipped # SKIP not here$' "$rt/ok.tap"
"$qemu/ksft-retry.sh" 3 "$rt/prog" always >"$rt/bad.tap" 2>&1
expect "ksft-retry: a case that always fails fails" 1 $?
if [ "$(cat "$rt/prog.always")" = 3 ] && grep -q '^not ok 1 global.always$' "$rt/bad.tap"; then
	pass "ksft-retry: tried exactly 3 times, then reported not ok"
else
	fail "ksft-retry: $(cat "$rt/prog.always") tries; $(grep 'ok' "$rt/bad.tap" | tail -n 1)"
fi
# -k: a case that loses the known race on every try is a skip that says
# so; one that fails some other way still fails.
rm -f "$rt/prog.always"
"$qemu/ksft-retry.sh" -k "race lost" "lost the race" 3 "$rt/prog" racy always >"$rt/racy.tap" 2>&1
expect "ksft-retry -k: another failure still fails" 1 $?
expect_grep "ksft-retry -k: the known race on every try is a skip" \
	'^ok 1 global.racy # SKIP lost the race (all 3 tries)$' "$rt/racy.tap"
expect_grep "ksft-retry -k: a failure without the signature is not ok" \
	'^not ok 2 global.always$' "$rt/racy.tap"

# payload.sh: entries carry their environment; merge adds files and entries.
pl=$out/payload
"$qemu/payload.sh" init "$pl/a"
printf '#!/bin/sh\necho "v=$V w=$W p=${PATH%%%%:*}"\n' >"$out/envprog"
chmod +x "$out/envprog"
"$qemu/payload.sh" add "$pl/a" envprog 10 "$out/envprog" "V=it's" 'W=$HOME' 'PATH=/x:$PATH' -- arg
"$qemu/payload.sh" init "$pl/b"
mkdir -p "$pl/b/extra" && : >"$pl/b/extra/f"
"$qemu/payload.sh" cmd "$pl/b" other 20 -- echo hi
"$qemu/payload.sh" merge "$pl/a" "$pl/b"
expect_grep "payload.sh: add lists /payload/bin/NAME with its environment" \
	"^envprog 10 V='it'\\\\''s' W=\\\$HOME PATH=/x:\\\$PATH /payload/bin/envprog arg\$" "$pl/a/tests.list"
expect_grep "payload.sh: merge appends the other list" '^other 20 echo hi$' "$pl/a/tests.list"
if [ -e "$pl/a/extra/f" ] && [ -x "$pl/a/bin/envprog" ] && [ -x "$pl/a/run" ]; then
	pass "payload.sh: files, program and run script in place"
else
	fail "payload.sh: missing extra/f, bin/envprog or run in $pl/a"
fi
(cd "$pl/a" && HOME=/h sh -c "$(sed -n 's|^envprog 10 ||; s|/payload|.|p' tests.list)") >"$pl/out" 2>&1
expect_grep "payload.sh: the entry runs with its environment" '^v=it.s w=/h p=/x$' "$pl/out"

if [ "${1:-}" = --unit ]; then
	echo "1..$n"
	[ "$fails" -eq 0 ]
	exit
fi

echo "# VM tests (one boot each)"
# vm NAME TIMEOUT: boot payloads/NAME, return run-vm.sh's exit status (make
# would turn every failure into 2, and the exact status is under test).
vm() {
	p=$out/payload-$1
	# A payload is a folder of tests/payloads/, or made by the caller.
	[ -d "$here/payloads/$1" ] && cp -r "$here/payloads/$1" "$p"
	[ -e "$p/run" ] || cp "$qemu/payload-run.sh" "$p/run"
	echo "# booting payload '$1' (log: ${out#"$root"/}/$1.log)"
	# shellcheck disable=SC2086  # $makearch and $runarch: none or two words
	make -s --no-print-directory -C "$qemu" initramfs PAYLOAD="$p" \
		OUT="$out/$1.cpio.gz" $makearch >"$out/$1.out" 2>&1 &&
	"$qemu/run-vm.sh" $runarch --kernel "$kimage" \
		--initrd "$out/$1.cpio.gz" --log "$out/$1.log" --timeout "$2" \
		>>"$out/$1.out" 2>&1
}

vm pass 120
expect "vm: passing payload passes" 0 $?
"$qemu/split-log.sh" "$out/pass.log" "$out/pass-tap"
"$root/scripts/summary.sh" "$out/pass-tap" >"$out/pass-summary.txt" 2>&1
expect_grep "vm: TAP of both programs comes back" '^afork: 3 passed, 0 failed, 1 skipped$' "$out/pass-summary.txt"

vm fail3 120
expect "vm: payload status 3 reaches the host" 3 $?

vm warn 120
expect_nonzero "vm: WARN() fails a passing payload" $?
expect_grep "vm: the WARNING is reported" 'scan-splats: .*WARNING:' "$out/warn.out"

vm kasan 120
expect_nonzero "vm: KASAN report fails a passing payload" $?
expect_grep "vm: the KASAN report is shown" 'scan-splats: .*KASAN' "$out/kasan.out"

vm panic 120
expect_nonzero "vm: panic fails the run" $?
expect_grep "vm: panic ends QEMU at once, reported as no verdict" 'no verdict, QEMU exited with 0' "$out/panic.out"

vm timeout 10
expect "vm: hung payload is killed by /init and reported as 124" 124 $?

# arm64: QEMU that refuses /init's semihosting exit (no userspace=on) must
# end in "no verdict" at once, not in a hang or a verdict from the console.
if [ "$garch" = arm64 ]; then
	mkdir -p "$out/payload-nosemihosting"
	cp "$here/payloads/pass/"* "$out/payload-nosemihosting/"
	export VM_NO_VERDICT_DEVICE=1
	vm nosemihosting 120
	rc=$?
	unset VM_NO_VERDICT_DEVICE
	expect_nonzero "vm: without semihosting there is no verdict" $rc
	expect_grep "vm: /init says the semihosting call failed" \
		'afork-init: semihosting exit: killed by signal 4' "$out/nosemihosting.log"
	expect_grep "vm: reported as no verdict" 'no verdict, QEMU exited with 0' "$out/nosemihosting.out"
fi

# A static binary as /payload/run: executed, not fed to the shell.
mkdir -p "$out/payload-binary"
printf '#include <unistd.h>\nint main(void) { write(1, "binary ran\\n", 11); return 5; }\n' \
	>"$out/binary.c"
if $tcc -static -Os -o "$out/payload-binary/run" "$out/binary.c"; then
	vm binary 120
	expect "vm: a static binary as /payload/run runs, status 5 reaches the host" 5 $?
	expect_grep "vm: the binary's output is on the console" 'binary ran' "$out/binary.log"
else
	fail "vm: cannot build the static binary payload"
fi

# A script for another interpreter: only its #! line makes it status 6.
mkdir -p "$out/payload-shebang"
printf '#!/usr/bin/awk -f\nBEGIN { print "awk ran"; exit 6 }\n' >"$out/payload-shebang/run"
chmod +x "$out/payload-shebang/run"
vm shebang 120
expect "vm: a #!/usr/bin/awk script as /payload/run runs through its #! line" 6 $?

echo "1..$n"
[ "$fails" -eq 0 ]
