#!/bin/sh
# Put the host's gdb into a guest payload folder, so that the library's
# debugger tests (selftests/lib/afork_gdb_test.c) run in the guest too,
# against the afork system call: gdb, every shared library it loads (found
# with ldd), the dynamic loader, gdb's own Python scripts and the few
# modules of Python's standard library they import (1 MB of its 14).
# DIR/bin/gdb runs it through the loader, so the guest needs no /lib.
#
#   scripts/gdb-payload.sh DIR         (nothing, and status 0, without gdb)
set -eu
dest=$1
gdb=$(command -v gdb 2>/dev/null) || {
	echo "gdb-payload: no gdb on this machine: the guest's gdb tests will skip" >&2
	exit 0
}

rm -rf "$dest"
mkdir -p "$dest/data"
# shellcheck disable=SC2016  # $d is the wrapper's
"$(dirname "$0")/../qemu/carry.sh" "$gdb" "$dest" 'PYTHONHOME=$d/python' -- '--data-directory=$d/data'

# gdb links libpython and initialises it at start, then loads its own
# Python package (the data directory's python/), which prints every
# breakpoint hit.  Without these standard modules (found by running gdb
# until no "No module named" remained) it either exits 1 before reading a
# command or garbles each "Breakpoint N, func (" line with an exception.
pyver=$(ldd "$gdb" | sed -n 's/.*libpython\([0-9.]*[0-9]\)\.so.*/\1/p' | head -n 1)
if [ -n "$pyver" ]; then
	src=/usr/lib/python$pyver
	py=$dest/python/lib/python$pyver
	mkdir -p "$py"
	for m in encodings collections importlib re codecs io abc os stat \
		 posixpath genericpath _collections_abc _sitebuiltins site \
		 traceback keyword operator reprlib linecache functools types \
		 tokenize enum copyreg token textwrap contextlib warnings copy \
		 weakref _weakrefset; do
		if [ -d "$src/$m" ]; then
			cp -r "$src/$m" "$py/"
		else
			cp "$src/$m.py" "$py/"
		fi
	done
	find "$py" -name __pycache__ -prune -exec rm -rf {} +
	datadir=$("$gdb" -nx -batch -ex 'show data-directory' 2>/dev/null |
		sed -n 's/.*is "\(.*\)"\./\1/p')
	if [ -d "$datadir/python" ]; then cp -r "$datadir/python" "$dest/data/"; fi
fi
