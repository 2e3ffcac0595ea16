#!/bin/sh
# Keep only the selected programs, or test cases, of a guest payload.
#
#   qemu/select-tests.sh PAYLOAD_DIR 'PATTERN...'
#
# Rewrites PAYLOAD_DIR/tests.list (qemu/payload-run.sh's list) in place.
# PATTERN is one or more shell globs, separated by blanks:
#
#   afork_wait_test   a program name, matched at its start: "clone3" is
#   clone3            every clone3 program, "afork" the system call's own
#                     three programs (not lib-afork_test)
#   'afork.release_*' a test case, as FIXTURE.TEST or FIXTURE.VARIANT.TEST
#                     (kselftest_harness names); the programs that have a
#                     matching case run only those cases (-r NAME...)
#
# A program that a pattern names runs whole.  The case names come from each
# harness program's own list (`PROG -l`, which lists and runs nothing; the
# payload's binaries are static, so the host can ask them).  Only programs
# built with kselftest_harness.h are asked, recognised by its usage text;
# others, such as clone3, would run their tests on the host.  Globs are the
# shell's (* ? [...] [!...]).  Prints what was selected; exits 1 when
# nothing was.  The arm64 guest's programs are asked through
# qemu-aarch64-static on another host.
set -euf	# -f: the patterns are globs for case, not for file names

dir=$1
patterns=$2
list=$dir/tests.list

# cases BINARY: every FIXTURE[.VARIANT].TEST the harness program would run,
# one per line; nothing for a program that is not a harness program.  The
# harness prints fixture, variant and test in columns of 20 and 25
# characters (wider when a name is longer), variants and tests side by
# side; a fixture runs each of its tests once per variant.
cases() {
	grep -q -a 'list all tests' "$1" || return 0
	# shellcheck disable=SC2046  # no word, or the emulator's name
	timeout 10 $(emulator "$1") "$1" -l 2>&1 </dev/null | awk '
		NR == 1 && $1 != "#" { exit }
		/^#/ || /^---/ { next }
		function flush(   i, j) {
			if (fx == "") return
			if (nv == 0) { for (j = 1; j <= nt; j++) print fx "." t[j] }
			for (i = 1; i <= nv; i++)
				for (j = 1; j <= nt; j++) print fx "." v[i] "." t[j]
		}
		{
			rest = $0
			if (substr($0, 1, 1) != " ") {
				flush(); nv = 0; nt = 0
				fx = $1
				rest = substr($0, (length(fx) > 20 ? length(fx) : 20) + 2)
			} else {
				rest = substr($0, 22)
			}
			if (substr(rest, 1, 1) == " ") {
				test_ = substr(rest, 27)
			} else {
				split(rest, w, " ")
				v[++nv] = w[1]
				test_ = substr(rest, (length(w[1]) > 25 ? length(w[1]) : 25) + 2)
			}
			gsub(/^ +| +$/, "", test_)
			if (test_ != "") t[++nt] = test_
		}
		END { flush() }'
}

# emulator BINARY: what runs BINARY here when it is an arm64 program (the
# arm64 guest's payload, on another host): QEMU's user-mode emulator
# (qemu-user-static), if installed; nothing otherwise.  ELF e_machine, at
# byte 18, is 183 (0xb7) for AArch64.
emulator() {
	[ "$(uname -m)" != aarch64 ] || return 0
	[ "$(od -An -tx1 -j18 -N2 "$1" 2>/dev/null | tr -d ' ')" = b700 ] || return 0
	if command -v qemu-aarch64-static >/dev/null 2>&1; then
		echo qemu-aarch64-static
	else
		echo "select-tests: cannot list the cases of arm64 program $1 without qemu-aarch64-static (qemu-user-static)" >&2
		echo false
	fi
}

# binary CMD: the payload file a tests.list command runs, on the host.
binary() {
	for w in $1; do
		case $w in
		/payload/*) echo "$dir/${w#/payload/}"; return ;;
		./*) echo "$dir/${w#./}"; return ;;
		esac
	done
}

out=$list.selected
: >"$out"
nprog=0
while read -r name secs cmd; do
	case $name in ''|'#'*) continue ;; esac
	args=
	keep=0
	list_=
	for p in $patterns; do
		# shellcheck disable=SC2254  # the pattern is a glob on purpose
		case $name in $p*) keep=1 ;; esac
		case $p in *.*) ;; *) continue ;; esac
		if [ -z "$list_" ]; then
			bin=$(binary "$cmd")
			list_=$( { [ -n "$bin" ] && [ -x "$bin" ] && cases "$bin"; } || true)
			[ -n "$list_" ] || list_=' '
		fi
		for c in $list_; do
			# shellcheck disable=SC2254
			case $c in $p)
				case " $args " in *" -r $c "*) ;; *) args="$args -r $c" ;; esac ;;
			esac
		done
	done
	if [ "$keep" = 1 ]; then
		echo "$name $secs $cmd" >>"$out"
	elif [ -n "$args" ]; then
		echo "$name $secs $cmd$args" >>"$out"
	else
		continue
	fi
	nprog=$((nprog + 1))
	echo "    $name${args:+ (cases:$args)}"
done <"$list"

if [ "$nprog" -eq 0 ]; then
	echo "select-tests: nothing in the payload matches T='$patterns'" >&2
	exit 1
fi
echo "# subset: T='$patterns' ($nprog program(s))" >>"$out"
mv "$out" "$list"
