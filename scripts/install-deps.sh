#!/bin/sh
# Install the Debian packages a build step needs, and only those missing.
#
#   scripts/install-deps.sh [group...]     groups: kernel qemu lib bench all
#                                          (arm64 guest: qemu-arm64 cross-arm64)
#
# Idempotent and silent when everything is present: each package is checked
# with dpkg-query first, and apt-get runs only for the ones that are not
# installed.  Without arguments, "all" is assumed.
set -eu

group_pkgs() {
	case $1 in
	# The kernel source itself is fetched by qemu/fetch-source.sh (apt and
	# the archive keyring, with a private sources list), not installed.
	kernel) echo apt dpkg debian-archive-keyring build-essential flex bison \
		     bc libelf-dev libssl-dev cpio xz-utils git dwarves rsync ;;
	qemu)   echo qemu-system-x86 busybox-static coreutils ;;
	lib)    echo liburing-dev libcap-dev clang pkg-config ninja-build python3 cppcheck clang-tidy \
		     man-db libclang-rt-14-dev gdb ;;
	bench)  echo gnuplot-nox ;;
	# The arm64 guest (make ... ARCH=arm64), not part of "all": QEMU's
	# arm64 system emulator, and the cross compiler on other hosts.  The
	# guest's busybox and static libraries are arm64 packages that
	# qemu/fetch-sysroot.sh unpacks under build/, not installed; with
	# qemu-user-static, select-tests.sh (T=) lists the cases of arm64 programs.
	qemu-arm64)  echo qemu-system-arm coreutils ;;
	cross-arm64) echo gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
		     qemu-user-static ;;
	all)    for g in kernel qemu lib bench; do group_pkgs "$g"; done ;;
	*)      echo "install-deps: unknown group '$1' (kernel qemu lib bench all qemu-arm64 cross-arm64)" >&2
		exit 2 ;;
	esac
}

[ $# -gt 0 ] || set -- all

wanted=
for g in "$@"; do
	wanted="$wanted $(group_pkgs "$g")"
done

missing=
for p in $wanted; do
	# "install ok installed" is the only state that means usable.
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $st in
	"install ok installed") ;;
	*) case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac ;;
	esac
done

[ -n "$missing" ] || exit 0

echo "==> installing missing packages:$missing"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps: need root (or sudo) to install:$missing" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# apt's own output goes to a log that is shown only when something fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086  # word splitting of the package list is intended
if ! { $SUDO apt-get update -qq &&
       $SUDO apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1
then
	cat "$log" >&2
	echo "install-deps: apt-get failed" >&2
	exit 1
fi
echo "==> packages installed"
