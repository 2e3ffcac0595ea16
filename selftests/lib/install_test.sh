#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Host-only test of the installed tree, TAP output: `make install` into a
# temporary DESTDIR, then build small consumers against it with pkg-config
# (shared and --static), in C99 and C++, and check the man pages and the
# exported symbols.  Environment: CC (cc), CXX (c++), MAKE (make).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-cc}
CXX=${CXX:-c++}
MAKE=${MAKE:-make}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/afork-install-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
n=0
failed=0

pass() { n=$((n + 1)); echo "ok $n $1"; }
fail() { n=$((n + 1)); echo "not ok $n $1"; failed=$((failed + 1)); }
# run DESCRIPTION COMMAND...: one test case, its output as TAP comments.
run() {
	desc=$1; shift
	if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc"; fi
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	return 0
}

cat >"$tmp/consumer.c" <<'C'
#include <afork.h>
#include <stdio.h>
#include <sys/wait.h>
static int fn(void *arg) { return (int)(long)arg; }
int main(void)
{
	int st = 0;
	pid_t pid = aforkx(AFORK_NOSIGCHLD, fn, (void *)7L);

	if (pid < 0 || waitpid(pid, &st, __WALL) != pid || WEXITSTATUS(st) != 7)
		return 1;
	printf("%s via %s\n", afork_version(), afork_backend_name(afork_backend()));
	return 0;
}
C
cat >"$tmp/consumer.cc" <<'C'
#include <afork.h>
#include <sys/wait.h>
static int fn(struct afork_ctx *ctx, void *) { afork_ctx_set_error(ctx, 0, 0); return 5; }
int main()
{
	struct afork_opts o;
	struct afork_child *c = nullptr;
	int st = 0;

	afork_opts_init(&o);
	o.options = AFORK_OPT_PIDFD;
	if (afork_start_ctx(&c, &o, fn, nullptr) || afork_wait(c, &st, 0) <= 0)
		return 1;
	afork_free(c);
	return WEXITSTATUS(st) == 5 ? 0 : 1;
}
C
printf '#include <linux/afork.h>\n#include <afork.h>\nint x = (int)(AFORK_NOSIGCHLD | AFORK_PIDFD);\n' >"$tmp/both1.c"
printf '#include <afork.h>\n#include <linux/afork.h>\nint x = (int)(AFORK_WAITPID | AFORK_PIDFD);\n' >"$tmp/both2.c"

echo "1..12"

run "make install DESTDIR=... PREFIX=/usr" \
	$MAKE -s -C "$top/lib" install O="$tmp/build" DESTDIR="$root" PREFIX=/usr
missing=
for f in include/afork.h lib/libafork.a lib/libafork.so lib/libafork.so.1 \
	 lib/pkgconfig/afork.pc share/man/man3/afork.3 share/man/man3/aforkx.3 \
	 share/man/man3/afork_start.3 share/man/man2/afork.2; do
	[ -e "$root/usr/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then pass "installed tree complete"; else fail "installed tree lacks:$missing"; fi

export PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig"

shared_prog() {
	$CC -std=c99 -Wall -Wextra -Werror -pedantic -o "$tmp/shared" "$tmp/consumer.c" \
		$(pkg-config --cflags --libs afork) &&
	readelf -d "$tmp/shared" | grep -q 'NEEDED.*libafork.so.1' &&
	LD_LIBRARY_PATH="$root/usr/lib" "$tmp/shared"
}
run "pkg-config --cflags --libs: C99 -pedantic program, shared, runs" shared_prog

static_prog() {
	$CC -static -std=c99 -Wall -Wextra -Werror -o "$tmp/static" "$tmp/consumer.c" \
		$(pkg-config --static --cflags --libs afork) &&
	! readelf -l "$tmp/static" | grep -q INTERP &&
	"$tmp/static"
}
run "pkg-config --static: static program runs" static_prog

cxx_prog() {
	$CXX -std=c++11 -Wall -Wextra -Werror -pedantic -o "$tmp/cxx" "$tmp/consumer.cc" \
		$(pkg-config --cflags --libs afork) &&
	LD_LIBRARY_PATH="$root/usr/lib" "$tmp/cxx"
}
run "C++ program builds (-pedantic) and runs" cxx_prog

both() {
	$CC -Wall -Wextra -Werror -pedantic -std=c99 -I"$top/uapi" \
		$(pkg-config --cflags afork) -c -o "$tmp/b1.o" "$tmp/both1.c" &&
	$CC -Wall -Wextra -Werror -pedantic -std=c99 -I"$top/uapi" \
		$(pkg-config --cflags afork) -c -o "$tmp/b2.o" "$tmp/both2.c"
}
run "<afork.h> and <linux/afork.h> together, either order" both

soname() {
	readelf -d "$root/usr/lib/libafork.so.1" | grep -q 'SONAME.*\[libafork.so.1\]'
}
run "soname libafork.so.1" soname

exports() {
	bad=$(nm -D --defined-only "$root/usr/lib/libafork.so.1" |
	      awk '$2 != "A" { print $3 }' | sed 's/@.*//' |
	      grep -v -e '^afork' -e '^avfork$' -e '^emulated_afork$' || true)
	[ -z "$bad" ] || { echo "unexpected exports: $bad"; return 1; }
	# Every exported function is declared in an installed header
	# (afork.h, or afork_spawn.h for the spawn layer).
	for s in $(nm -D --defined-only "$root/usr/lib/libafork.so.1" |
		   awk '$2 == "T" { print $3 }' | sed 's/@.*//'); do
		cat "$root/usr/include/afork.h" "$root/usr/include/afork_spawn.h" 2>/dev/null |
			grep -q "[ *]$s(" ||
			{ echo "$s not in afork.h or afork_spawn.h"; return 1; }
	done
	nm -D --defined-only "$root/usr/lib/libafork.so.1" | grep -q ' afork@@LIBAFORK_0.1' &&
	nm -D --defined-only "$root/usr/lib/libafork.so.1" | grep -q ' avfork@@LIBAFORK_0.2' &&
	nm -D --defined-only "$root/usr/lib/libafork.so.1" | grep -q ' emulated_afork@@LIBAFORK_0.2'
}
run "only the public API is exported, versioned LIBAFORK_0.1 and 0.2" exports

manpages() {
	command -v man >/dev/null || { echo "no man(1) (scripts/install-deps.sh lib installs man-db)"; return 1; }
	MANWIDTH=80 man -M "$root/usr/share/man" 3 aforkx 2>&1 | grep -q 'aforkx' &&
	MANWIDTH=80 man -M "$root/usr/share/man" 3 afork_child_dup2 2>&1 | grep -q 'afork_child_dup2' &&
	MANWIDTH=80 man -M "$root/usr/share/man" 2 afork 2>&1 | grep -q 'AFORK_QUERY'
}
run "man pages render, .so aliases resolve" manpages

# A packager's install: a default build first (PREFIX=/usr/local baked into
# anything made at build time), then make install with a Debian multiarch
# LIBDIR.  The .pc files must say what the install was given.
multi=$($CC -print-multiarch 2>/dev/null)
[ -n "$multi" ] || multi=x86_64-linux-gnu
mroot=$tmp/mroot
mlib=/usr/lib/$multi
multiarch_install() {
	$MAKE -s -C "$top/lib" O="$tmp/mbuild" &&
	$MAKE -s -C "$top/lib/uring" O="$tmp/mbuild" &&
	$MAKE -s -C "$top/lib" install O="$tmp/mbuild" DESTDIR="$mroot" \
		PREFIX=/usr LIBDIR="$mlib" &&
	$MAKE -s -C "$top/lib/uring" install O="$tmp/mbuild" DESTDIR="$mroot" \
		PREFIX=/usr LIBDIR="$mlib" &&
	[ -e "$mroot$mlib/libafork.so.1" ] && [ -e "$mroot$mlib/libafork.a" ] &&
	[ -e "$mroot/usr/include/afork.h" ] &&
	grep -qx 'prefix=/usr' "$mroot$mlib/pkgconfig/afork.pc" &&
	grep -qx "libdir=$mlib" "$mroot$mlib/pkgconfig/afork.pc" &&
	grep -qx 'includedir=/usr/include' "$mroot$mlib/pkgconfig/afork.pc" &&
	grep -qx "libdir=$mlib" "$mroot$mlib/pkgconfig/afork-uring.pc" ||
	{ cat "$mroot$mlib/pkgconfig/afork.pc" 2>/dev/null; return 1; }
}
run "default build, then install PREFIX=/usr LIBDIR=$mlib: .pc files say so" multiarch_install

multiarch_shared() {
	PKG_CONFIG_PATH="$mroot$mlib/pkgconfig" PKG_CONFIG_LIBDIR="$mroot$mlib/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$mroot" sh -c '
		$0 -std=c99 -Wall -Wextra -Werror -o "$1/mshared" "$1/consumer.c" \
			$(pkg-config --cflags --libs afork)' "$CC" "$tmp" &&
	LD_LIBRARY_PATH="$mroot$mlib" "$tmp/mshared"
}
run "multiarch tree: pkg-config --cflags --libs afork, shared program runs" multiarch_shared

multiarch_static() {
	PKG_CONFIG_PATH="$mroot$mlib/pkgconfig" PKG_CONFIG_LIBDIR="$mroot$mlib/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$mroot" sh -c '
		$0 -static -std=c99 -Wall -Wextra -Werror -o "$1/mstatic" "$1/consumer.c" \
			$(pkg-config --static --cflags --libs afork)' "$CC" "$tmp" &&
	! readelf -l "$tmp/mstatic" | grep -q INTERP && "$tmp/mstatic"
}
run "multiarch tree: pkg-config --static, static program runs" multiarch_static

[ "$failed" -eq 0 ]
