#!/bin/sh
# Keep only the selected programs, or test cases, of a guest payload.
#
#   qemu/select-tests.sh PAYLOAD_DIR 'PATTERN...'
#
# Rewrites PAYLOAD_DIR/tests.list (qemu/payload-run.sh's list) in place.
# PATTERN is one or more shell globs, separated by blanks:
#
#   afork_wait_test   a program name; a pattern without a dot matches the
#   clone3            start of the name, so "clone3" is every clone3 program
#                     and "afork" the system call's own three programs
#   'afork.release_*' a test case, as FIXTURE.TEST or FIXTURE.VARIANT.TEST
#                     (kselftest_harness names); the programs that have a
#                     matching case run only those cases (-r NAME...)
#
# The case names come from each harness program's own list (`PROG -l`,
# which lists and runs nothing); the payload's binaries are static, so the
# host can ask them.  A program that is not a harness program only runs
# when a program pattern names it.  Prints what was selected; exits 1 when
# nothing was.
set -euf	# -f: the patterns are globs for case, not for file names

dir=$1
patterns=$2
list=$dir/tests.list

# glob_re GLOB: the anchored extended regular expression of a shell glob.
glob_re() {
	printf '%s' "$1" | sed -e 's/[].[^$+(){}|\\]/\\&/g' -e 's/\*/.*/g' -e 's/?/./g'
}

# cases BINARY: every FIXTURE[.VARIANT].TEST the harness program would run,
# one per line; nothing for a program that is not a harness program.  The
# harness prints fixture, variant and test in columns of 20 and 25
# characters (wider when a name is longer), variants and tests side by
# side; a fixture runs each of its tests once per variant.
cases() {
	"$1" -l 2>&1 </dev/null | awk '
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
	for p in $patterns; do
		case $p in
		*.*)
			bin=$(binary "$cmd")
			[ -n "$bin" ] && [ -x "$bin" ] || continue
			re=$(glob_re "$p")
			for c in $(cases "$bin" | grep -E "^$re\$" || true); do
				case " $args " in *" -r $c "*) ;; *) args="$args -r $c" ;; esac
			done
			;;
		*)
			# shellcheck disable=SC2254  # the pattern is a glob on purpose
			case $name in $p*) keep=1 ;; esac
			;;
		esac
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
