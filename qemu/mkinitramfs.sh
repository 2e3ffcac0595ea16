#!/bin/sh
# Build the guest's initramfs without root privileges.
#
#   qemu/mkinitramfs.sh GEN_INIT_CPIO INIT PAYLOAD_DIR OUT.cpio.gz
#
# The archive is described in a list file for the kernel's usr/gen_init_cpio
# (which sets owners and device nodes itself, so no root and no mknod):
#   /dev/console       the node the kernel opens for init's stdio
#   /init              INIT, the static program built from qemu/init.c
#   /bin/busybox       busybox-static, with a link for each of its applets
#                      (BUSYBOX=path in the environment: another one, e.g.
#                      the arm64 busybox of qemu/fetch-sysroot.sh; when it
#                      cannot run here, /init makes the links at boot)
#   /proc /sys /dev /tmp, mount points
#   /payload/...       PAYLOAD_DIR, recursively, modes (exec bits) kept
set -eu

gen=$1
init=$2
payload=$3
out=$4

busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "mkinitramfs: $busybox missing (install busybox-static)" >&2; exit 1; }
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	echo "mkinitramfs: $busybox is dynamically linked (install busybox-static)" >&2
	exit 1
fi
[ -d "$payload" ] || { echo "mkinitramfs: payload directory '$payload' missing" >&2; exit 1; }
[ -e "$payload/run" ] || echo "mkinitramfs: warning: $payload/run missing; the guest will report 127" >&2

list=$out.list
mkdir -p "$(dirname "$out")"
{
	for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /root /etc /payload; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /init $init 0755 0 0"
	echo "file /bin/busybox $busybox 0755 0 0"
	# Every applet at its usual place (bin/sh, usr/bin/timeout, ...).  A
	# busybox of another architecture cannot list them here: /init has it
	# make them itself (busybox --install -s) before the payload runs.
	if "$busybox" true 2>/dev/null; then
		"$busybox" --list-full | while read -r a; do
			[ "/$a" = /bin/busybox ] || echo "slink /$a /bin/busybox 0777 0 0"
		done
	fi

	# The payload.  gen_init_cpio splits on blanks, so names must have none.
	cd "$payload"
	find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
		case $f in *[[:space:]]*)
			echo "mkinitramfs: file name with blanks not supported: $f" >&2
			exit 1 ;;
		esac
		p=/payload/${f#./}
		if [ -L "$f" ]; then
			echo "slink $p $(readlink "$f") 0777 0 0"
		elif [ -d "$f" ]; then
			echo "dir $p $(stat -c %a "$f") 0 0"
		elif [ -f "$f" ]; then
			echo "file $p $(pwd)/${f#./} $(stat -c %a "$f") 0 0"
		fi
	done
} >"$list"

"$gen" "$list" | gzip -n -6 >"$out.tmp"
mv "$out.tmp" "$out"
