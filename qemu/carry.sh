#!/bin/sh
# SPDX-License-Identifier: MIT
# Carry one of the host's dynamically linked programs into a guest payload
# folder: the program, every shared library ldd names and the dynamic
# loader, and a wrapper that runs it through that loader, so that the
# guest (busybox, no /lib) needs nothing of its own.
#
#   qemu/carry.sh PROGRAM DIR [VAR=VALUE...] [-- ARG...]
#
# DIR/libexec/NAME is the program, DIR/lib its libraries, DIR/bin/NAME the
# wrapper, which runs it with VAR=VALUE... in its environment and ARG...
# before the caller's arguments.  In a VALUE or ARG, $d stands for DIR as
# the guest sees it (write it in single quotes).  Used for gdb
# (scripts/gdb-payload.sh) and perf (bench/stall-profile.sh).
set -eu
prog=$1 dest=$2
shift 2
name=$(basename "$prog")
envs='' args=''
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	envs="$envs $1"
	shift
done
[ $# -eq 0 ] || shift
for a in "$@"; do
	args="$args \"$a\""
done

mkdir -p "$dest/bin" "$dest/lib" "$dest/libexec"
cp -L "$prog" "$dest/libexec/$name"
loader=
for lib in $(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'); do
	cp -L "$lib" "$dest/lib/"
	case $lib in */ld-linux*) loader=$(basename "$lib") ;; esac
done
[ -n "$loader" ] || { echo "carry: no dynamic loader in ldd $prog" >&2; exit 1; }

cat >"$dest/bin/$name" <<WRAP
#!/bin/sh
# $name from the host, run through its own loader and libraries (qemu/carry.sh).
d=\$(cd "\$(dirname "\$0")/.." && pwd)
${envs:+export$envs
}exec "\$d/lib/$loader" --library-path "\$d/lib" "\$d/libexec/$name"$args "\$@"
WRAP
chmod +x "$dest/bin/$name"
