#!/bin/sh
# sparse on the files the afork series touches, separating what the series
# added from what was there before.
#
#   scripts/sparse.sh [FILE.c ...]     default: the series' kernel/ and fs/ files
#
# Builds in its own output directory (build/sparse, a copy of the guest
# configuration build/kbuild/.config) so that it disturbs no other kernel
# build, under the tree's lock (build/linux.lock, as qemu/kernel.sh).  For
# each file it runs sparse (make C=2 CHECK=sparse FILE.o) on the patched
# file and, with the same command, on the file as it is at the tree's tag
# "base" (the pristine Debian source), then reports every warning:
#   - on a line the series added (git diff base): a finding, "not ok";
#   - elsewhere: pre-existing, listed with the count in the base file.
# Headers the series added or changed count the same way.  Output is TAP;
# exit status non-zero when the series added a warning.
#
# Environment: SRC (build/linux), CONFIG (build/kbuild/.config),
# OUT (build/sparse).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
SRC=${SRC:-$top/build/linux}
CONFIG=${CONFIG:-$top/build/kbuild/.config}
OUT=${OUT:-$top/build/sparse}

[ $# -gt 0 ] || set -- kernel/fork.c kernel/exit.c kernel/signal.c fs/pidfs.c

if ! command -v sparse >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q sparse >/dev/null 2>&1 ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q sparse; } >/dev/null 2>&1
	fi
	command -v sparse >/dev/null 2>&1 || { echo "1..0 # SKIP sparse is not installed"; exit 0; }
fi
for f in "$SRC/Makefile" "$CONFIG"; do
	[ -r "$f" ] || { echo "1..0 # SKIP $f missing (make -C qemu kernel)"; exit 0; }
done
git -C "$SRC" rev-parse -q --verify base >/dev/null ||
	{ echo "1..0 # SKIP $SRC has no tag 'base'"; exit 0; }

mkdir -p "$OUT/base"
log=$OUT/sparse.log
: >"$log"

# One user of the tree at a time (qemu/kernel-tree.sh may re-patch it).
exec 9>"$SRC.lock"
flock 9

kmake() { make --no-print-directory -C "$SRC" ARCH=x86_64 O="$OUT" "$@"; }
if ! cmp -s "$CONFIG" "$OUT/.config.src"; then
	cp "$CONFIG" "$OUT/.config"
	cp "$CONFIG" "$OUT/.config.src"
fi
echo "# preparing $OUT (first time: a few minutes)" >&2
if ! { kmake olddefconfig && kmake -j"$(nproc)" prepare; } >>"$log" 2>&1; then
	tail -n 20 "$log" | sed 's/^/# /'
	echo "1..0 # SKIP could not prepare the kernel tree (see $log)"
	exit 0
fi

# Lines the series added, as "FILE:LINE" (for every file it touches).
git -C "$SRC" diff -U0 base -- . ':!tools' | awk '
	/^\+\+\+ b\// { file = substr($0, 7); next }
	/^@@/ {
		split($3, a, ",")
		start = substr(a[1], 2) + 0
		n = (a[2] == "" ? 1 : a[2] + 0)
		for (i = 0; i < n; i++) print file ":" start + i
	}' >"$OUT/added"

echo "TAP version 13"
echo "1..$#"
n=0
fail=0
for file in "$@"; do
	n=$((n + 1))
	obj=${file%.c}.o
	rm -f "$OUT/$obj"
	kmake V=1 C=2 CHECK=sparse "$obj" >"$OUT/patched.out" 2>&1
	# The sparse command kbuild ran, to run it again on the base file.
	cmd=$(grep -E '^ *sparse ' "$OUT/patched.out" | tail -n 1)
	if [ -z "$cmd" ]; then
		echo "not ok $n sparse $file: no sparse run (see $OUT/patched.out)"
		fail=$((fail + 1))
		continue
	fi
	grep -E ': (warning|error):' "$OUT/patched.out" |
		sed "s|^$SRC/||; s|^\./||" | sort -u >"$OUT/patched.w"

	mkdir -p "$OUT/base/$(dirname "$file")"
	git -C "$SRC" show "base:$file" >"$OUT/base/$file"
	# Same command, the base file instead; its own directory for "" includes.
	bcmd=$(printf '%s\n' "$cmd" | sed "s|[^ ]*$file\$|-I$SRC/$(dirname "$file") $OUT/base/$file|")
	(cd "$OUT" && sh -c "$bcmd") >"$OUT/base.out" 2>&1
	grep -E ': (warning|error):' "$OUT/base.out" |
		sed "s|^$OUT/base/||; s|^$SRC/||; s|^\./||" | sort -u >"$OUT/base.w"

	new=0
	old=0
	: >"$OUT/report"
	while IFS= read -r w; do
		loc=$(printf '%s\n' "$w" | cut -d: -f1,2)
		msg=$(printf '%s\n' "$w" | cut -d: -f4-)
		if grep -qxF "$loc" "$OUT/added"; then
			new=$((new + 1))
			echo "#   ADDED   $w" >>"$OUT/report"
		else
			old=$((old + 1))
			inbase=$(grep -cF -- "$msg" "$OUT/base.w")
			echo "#   before  $w   (base: $inbase alike)" >>"$OUT/report"
		fi
	done <"$OUT/patched.w"
	nbase=$(wc -l <"$OUT/base.w")
	if [ "$new" -eq 0 ]; then
		echo "ok $n sparse $file: nothing on added lines ($old pre-existing; base file: $nbase)"
	else
		echo "not ok $n sparse $file: $new warning(s) on added lines ($old pre-existing; base file: $nbase)"
		fail=$((fail + 1))
	fi
	cat "$OUT/report"
done
[ "$fail" -eq 0 ]
