#!/usr/bin/env bash
# Checks of libafork's built objects, as TAP into OUTDIR/objects.tap.
# The library is built twice into a scratch directory: with the default
# flags, and with the hardening flags distributions use
# (-fcf-protection -fstack-protector-strong -D_FORTIFY_SOURCE=2 -O3).
#
#  - child-side objects (lib/Makefile's CHILD_OBJS: the code that runs in
#    an afork child) refer to no symbol that the library does not define.
#    A call to libc from there goes through the PLT, which a program
#    linking libafork.a without -z now binds lazily, in the child: the
#    dynamic linker then runs on the child's stack, in the parent's memory.
#  - with -fcf-protection, every object of the library, and libafork.so,
#    is marked IBT and SHSTK (.note.gnu.property): one object without the
#    note, the trampoline say, and the linker drops both for the library
#    and every program that links it.  Where the toolchain's own start
#    files lack the note (Debian 12's glibc is built without CET), no
#    library can be marked: the second check then skips, naming them.
#
#   scripts/check-objects.sh OUTDIR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: $0 OUTDIR}
# shellcheck source=scripts/tap-results.sh
. "$top/scripts/tap-results.sh"
tap_begin "$out" objects
cd "$top"

# child_refs OBJDIR: the child-side objects' references to symbols that no
# object of the library defines, one "object: symbol" a line.
child_refs() {
	local o=$1 f s
	nm --defined-only -g "$o"/obj/*.o "$o"/obj/arch/*/*.o 2>/dev/null |
		awk 'NF == 3 { print $3 }' | sort -u >"$tmp/defined"
	for f in $(make -s -C lib child-objs O="$o"); do
		for s in $(nm -u "$f" | awk '{ print $2 }'); do
			grep -qxF "$s" "$tmp/defined" || echo "${f#"$o"/obj/}: $s"
		done
	done
}

# build NAME CFLAGS: the library into $tmp/NAME; 0 if it built.  The log
# keeps the linker's list of inputs without the CET properties.
build() {
	make -s -C lib O="$tmp/$1" CFLAGS="$2" V=1 \
		LDFLAGS="-Wl,-z,cet-report=warning" >"$tmp/$1.log" 2>&1 && return 0
	sed 's/^/# /' "$tmp/$1.log" | tail -20 >>"$tmp/diag"
	return 1
}

hard="-O3 -g -fcf-protection -fstack-protector-strong -D_FORTIFY_SOURCE=2"
for b in "default:-O2 -g" "hardened:$hard"; do
	name=${b%%:*}
	flags=${b#*:}
	if ! build "$name" "$flags"; then
		result FAIL "libafork builds with $name flags ($flags)"
		continue
	fi
	child_refs "$tmp/$name" >"$tmp/refs"
	if [ -s "$tmp/refs" ]; then
		sed 's/^/# outside the library: /' "$tmp/refs" >>"$tmp/diag"
		result FAIL "child-side objects call nothing outside the library ($name flags)"
	else
		result OK "child-side objects call nothing outside the library ($name flags)"
	fi
done

# CET: every object of the library is marked; so is the library, unless
# the toolchain's own start files (crti.o, libc_nonshared.a, ...) are not.
cet="every libafork object built with -fcf-protection is marked IBT and SHSTK"
if ! gcc -fcf-protection -E -dM -x c /dev/null | grep -q '__CET__'; then
	result SKIP "$cet" "the compiler does not support -fcf-protection"
elif [ -d "$tmp/hardened/obj" ]; then
	bad=
	for f in "$tmp"/hardened/obj/*.o "$tmp"/hardened/obj/arch/*/*.o; do
		p=$(readelf -n "$f" | sed -n 's/.*x86 feature: *//p')
		{ echo "$p" | grep -qw IBT && echo "$p" | grep -qw SHSTK; } ||
			bad="$bad ${f#"$tmp"/hardened/obj/}"
	done
	# The trampoline's entry point starts with endbr64.
	for s in afork__tramp; do
		objdump -d --no-show-raw-insn "$tmp"/hardened/obj/arch/*/trampoline.o |
			awk -v s="<$s>:" '$2 == s { getline; print; exit }' |
			grep -q endbr64 || bad="$bad $s(no endbr64)"
	done
	if [ -z "$bad" ]; then
		result OK "$cet"
	else
		echo "# not marked:$bad" >>"$tmp/diag"
		result FAIL "$cet"
	fi
else
	result FAIL "$cet"
fi

so=$(ls "$tmp"/hardened/libafork.so.*.* 2>/dev/null | head -1)
cetso="libafork.so built with -fcf-protection is marked IBT and SHSTK"
if [ -z "$so" ] || ! gcc -fcf-protection -E -dM -x c /dev/null | grep -q '__CET__'; then
	result SKIP "$cetso" "no library built with -fcf-protection"
else
	props=$(readelf -n "$so" | sed -n 's/.*x86 feature: *//p')
	# The inputs the linker found unmarked (-z cet-report=warning).
	grep 'missing IBT and SHSTK' "$tmp/hardened.log" |
		sed 's/: warning.*//; s/^.*ld: //' | sort -u >"$tmp/unmarked"
	if echo "$props" | grep -qw IBT && echo "$props" | grep -qw SHSTK; then
		result OK "$cetso"
	elif [ -s "$tmp/unmarked" ] && ! grep -q "$tmp" "$tmp/unmarked"; then
		result SKIP "$cetso" "this toolchain's own objects are not marked: $(xargs -n1 basename <"$tmp/unmarked" | tr '\n' ' ')"
	else
		sed 's/^/# unmarked input: /' "$tmp/unmarked" >>"$tmp/diag"
		echo "# readelf -n: x86 feature: ${props:-(none)}" >>"$tmp/diag"
		result FAIL "$cetso"
	fi
fi

tap_end
