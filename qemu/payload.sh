#!/bin/sh
# Lay out a guest payload: the one way every payload is made (make check's,
# the kernel's clone3/pidfd selftests', make run's demo).
#
#   qemu/payload.sh init DIR
#       DIR emptied; DIR/run is qemu/payload-run.sh; DIR/tests.list empty.
#   qemu/payload.sh add DIR NAME SECS FILE [VAR=VALUE...] [-- ARG...]
#       FILE copied to DIR/bin/NAME and listed: the guest runs
#       /payload/bin/NAME ARG... with VAR=VALUE... in its environment, and
#       kills it after SECS seconds.  With STRIP set (a strip program),
#       the copy is stripped.
#   qemu/payload.sh file DIR FILE...
#       FILEs copied to DIR/bin, not listed: programs that a listed one
#       runs (they look for them beside themselves).
#   qemu/payload.sh cmd DIR NAME SECS [VAR=VALUE...] -- COMMAND...
#       A shell command, run from /payload, for files put in DIR by hand.
#   qemu/payload.sh merge DIR OTHER
#       OTHER's files (but its run) and its entries added to DIR.
#
# An entry carries its own environment: nothing is patched into tests.list
# afterwards.  tests.list has one program per line, NAME SECS COMMAND, as
# qemu/payload-run.sh reads it; a VAR=VALUE is put in single quotes unless
# it names a variable the guest's shell should expand ($PATH).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# env_words VAR=VALUE...: the assignments, each one shell word.
env_words() {
	for a in "$@"; do
		case $a in
		*'$'*) printf '%s ' "$a" ;;
		*) printf "%s='%s' " "${a%%=*}" "$(printf '%s' "${a#*=}" | sed "s/'/'\\\\''/g")" ;;
		esac
	done
}

# take_envs [VAR=VALUE...] [-- ...]: $envs, the assignments as shell words;
# $nenv, how many arguments they and the "--" took.
take_envs() {
	envs=''
	nenv=0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs="$envs$(env_words "$1")"
		nenv=$((nenv + 1))
		shift
	done
	[ $# -eq 0 ] || nenv=$((nenv + 1))
}

op=${1:?usage: payload.sh init|add|file|cmd|merge DIR ...}
dir=${2:?usage: payload.sh $op DIR ...}
shift 2
list=$dir/tests.list

case $op in
init)
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	cp "$here/payload-run.sh" "$dir/run"
	chmod +x "$dir/run"
	: >"$list"
	;;
add)
	name=$1 secs=$2 file=$3
	shift 3
	take_envs "$@"
	shift "$nenv"
	if [ -n "${STRIP:-}" ]; then
		"$STRIP" -o "$dir/bin/$name" "$file"
	else
		cp "$file" "$dir/bin/$name"
	fi
	echo "$name $secs $envs/payload/bin/$name${*:+ $*}" >>"$list"
	;;
file)
	for f in "$@"; do
		if [ -n "${STRIP:-}" ]; then
			"$STRIP" -o "$dir/bin/$(basename "$f")" "$f"
		else
			cp "$f" "$dir/bin/"
		fi
	done
	;;
cmd)
	name=$1 secs=$2
	shift 2
	take_envs "$@"
	shift "$nenv"
	echo "$name $secs $envs$*" >>"$list"
	;;
merge)
	other=$1
	(cd "$other" && find . -mindepth 1 -maxdepth 1 ! -name run ! -name tests.list) |
	while read -r f; do
		cp -r "$other/$f" "$dir/"
	done
	cat "$other/tests.list" >>"$list"
	;;
*)
	echo "payload.sh: unknown operation '$op' (init add file cmd merge)" >&2
	exit 2
	;;
esac
