#!/bin/bash
# Boot the guest kernel with an initramfs and bring its verdict back.
#
#   qemu/run-vm.sh [--arch x86_64|arm64] --kernel BZIMAGE --initrd CPIO --log LOG
#                  [--timeout SECONDS] [--append "extra kernel args"]
#
# The serial console is written to LOG and streamed to stdout.  The exit
# status is the payload's, as /init reported it through isa-debug-exit
# (QEMU exits with (status << 1) | 1), except that:
#   - no verdict (timeout, QEMU error, guest panic or reboot) fails, and
#   - any kernel splat in the console log fails (qemu/scan-splats.sh),
# even when the payload itself passed.
#
# The machine is QEMU's microvm: no BIOS, PCI or ACPI to emulate, so it
# boots in seconds under TCG, and its firmware's MP table lists every CPU
# (the pc machine's SeaBIOS table shows only one under TCG and the kernel
# has no ACPI).  Serial console and isa-debug-exit sit on its ISA bus.
#
# --arch arm64: the arm64 guest, an Image on QEMU's virt machine (see
# "arm64" below); the verdict travels the same way, by semihosting instead
# of isa-debug-exit.
#
# Environment: ACCEL=tcg (default), kvm, or auto (KVM if /dev/kvm is usable
# and a probe boot ends within 20 s: nested KVM can hang at boot, as on the
# machines this was written on); QEMU=qemu-system-x86_64;
# VM_MEM=2G (KASAN's shadow takes an eighth of it); VM_SMP=2;
# TSC_KHZ=host TSC kHz (default: measured by build/qemu/tsc-khz if present).
# arm64 only: QEMU=qemu-system-aarch64, VM_CPU=max (the CPU model).
# VM_NO_VERDICT_DEVICE=1 (for qemu/tests): boot without the verdict's way
# out (isa-debug-exit, semihosting), to see a "no verdict" come back.
set -u

here=$(cd "$(dirname "$0")" && pwd)
kernel= initrd= log= timeout=900 append= arch=x86_64
while [ $# -gt 0 ]; do
	case $1 in
	--arch)    arch=$2; shift 2 ;;
	--kernel)  kernel=$2; shift 2 ;;
	--initrd)  initrd=$2; shift 2 ;;
	--log)     log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--append)  append=$2; shift 2 ;;
	*) echo "run-vm: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for f in "$kernel" "$initrd"; do
	[ -r "$f" ] || { echo "run-vm: cannot read '$f'" >&2; exit 2; }
done
[ -n "$log" ] || { echo "run-vm: --log is required" >&2; exit 2; }
mkdir -p "$(dirname "$log")"

accel=${ACCEL:-tcg}
case $arch in
x86_64) qemu=${QEMU:-qemu-system-x86_64} ;;
arm64)
	qemu=${QEMU:-qemu-system-aarch64}
	# Semihosting, which carries the verdict, exists under TCG only.
	case $accel in
	tcg) ;;
	auto) accel=tcg ;;
	*) echo "run-vm: the arm64 guest runs under TCG only (ACCEL=$accel): its verdict needs semihosting" >&2
	   exit 2 ;;
	esac ;;
*) echo "run-vm: unknown --arch '$arch' (x86_64, arm64)" >&2; exit 2 ;;
esac

# The probe boots the kernel without an initramfs: it panics for want of a
# root filesystem and, with reboot=t and -no-reboot, QEMU exits with 0.
if [ "$accel" = auto ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		echo "==> probing KVM (20 s at most)"
		timeout -k 5 20 "$qemu" -M microvm -accel kvm -m 256M -smp 1 \
			-nodefaults -display none -no-reboot -serial null \
			-kernel "$kernel" -append "panic=-1 reboot=t" </dev/null >/dev/null 2>&1 &&
			accel=kvm
	fi
fi
# Booting a KASAN + lockdep kernel under TCG takes a while; the guest's own
# payload timeout is $timeout, the host's adds this much for boot and exit.
boot_margin=180

# panic=-1: a panic reboots at once, and -no-reboot turns that into a QEMU
# exit without a verdict.  reboot=t: by triple fault, the one way microvm
# notices (it has no ACPI or keyboard controller, and the kernel's last
# resort, a jump to the firmware, boots the kernel again in a loop).  The log is kept at full verbosity so that splats
# show in it.  afork.timeout is read by /init.
cmdline="console=ttyS0 panic=-1 reboot=t afork.timeout=$timeout afork.epoch=$(date +%s)"

# A usable clock for timings in the guest (see qemu/tsc-khz.c): the host's
# TSC frequency, which TCG's RDTSC runs at.  KVM guests use kvm-clock;
# arm64 guests the architected timer, whose frequency QEMU states.
if [ "$accel" = tcg ] && [ "$arch" = x86_64 ]; then
	khz=${TSC_KHZ:-}
	if [ -z "$khz" ] && [ -x "$here/../build/qemu/tsc-khz" ]; then
		khz=$("$here/../build/qemu/tsc-khz" || true)
	fi
	[ -z "$khz" ] || cmdline="$cmdline tsc_early_khz=$khz tsc=reliable"
fi
cmdline="$cmdline $append"

# arm64: QEMU's virt machine with the PL011 console (ttyAMA0), GICv3 and
# PSCI; no PCI devices, no firmware (QEMU loads the Image and its device
# tree itself).  The verdict: /init's semihosting exit call (see
# send_verdict() in init.c for why not PSCI power-off and the console line
# alone), which QEMU takes from user space only with userspace=on.
# Semihosting also offers the guest file access on the host; the guest
# runs only this project's tests, as on x86 where any guest root process
# could write the exit port too.  panic=-1 and -no-reboot make a panic or
# a reboot (PSCI SYSTEM_RESET) end QEMU with 0, "no verdict", as on x86;
# reboot=t is x86's.  The CPU: `max` (see docs/arm64.md for the timings
# against cortex-a57).
if [ "$arch" = arm64 ]; then
	cmdline="console=ttyAMA0 panic=-1 afork.timeout=$timeout afork.epoch=$(date +%s) $append"
	machine="-M virt,gic-version=3 -cpu ${VM_CPU:-max}"
	verdict_dev="-semihosting-config enable=on,target=native,userspace=on"
else
	machine="-M microvm"
	verdict_dev="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
fi
[ "${VM_NO_VERDICT_DEVICE:-0}" = 0 ] || verdict_dev=

echo "==> booting the guest ($accel; kernel log: ${log#"$PWD"/})"
start=$(date +%s)
# stdin from /dev/null: QEMU must not put the caller's terminal in raw mode.
# shellcheck disable=SC2086  # $machine and $verdict_dev are several words
timeout -k 10 $((timeout + boot_margin)) \
	"$qemu" $machine -accel "$accel" -m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" \
	-nodefaults -display none -no-reboot \
	-serial stdio \
	$verdict_dev \
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
	</dev/null 2>&1 | tee "$log"
qs=${PIPESTATUS[0]}
elapsed=$(($(date +%s) - start))

# The guest prints its verdict before writing it to the port; both must
# agree, so that a QEMU that failed with an odd status (1: bad option) is
# never taken for a payload status.
marker=$(grep -a -o 'afork-init: payload exit status [0-9]*' "$log" | tail -n 1)
reported=${marker##* }

status=
case $qs in
124|137)
	echo "run-vm: FAIL: no verdict, the guest did not finish within $((timeout + boot_margin)) s" >&2 ;;
0)
	echo "run-vm: FAIL: no verdict, QEMU exited with 0 (guest panicked or rebooted)" >&2 ;;
*)
	if [ $((qs % 2)) -eq 1 ] && [ -n "$reported" ] &&
	   [ $(((qs - 1) / 2)) -eq $((reported > 127 ? 127 : reported)) ]; then
		status=$reported
	else
		echo "run-vm: FAIL: no verdict, QEMU exited with $qs${marker:+ (guest said: $marker)}" >&2
	fi ;;
esac

if ! "$here/scan-splats.sh" "$log"; then
	echo "run-vm: FAIL: the kernel reported problems (above); full log: $log" >&2
	exit 1
fi
[ -n "$status" ] || exit 1
# Keep the exit status in the 8-bit range a shell can see.
[ "$status" -le 255 ] || status=255
echo "==> guest finished in ${elapsed} s, payload exit status $status"
exit "$status"
