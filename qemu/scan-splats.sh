#!/bin/sh
# Look for kernel splats in a guest console log.
#
#   qemu/scan-splats.sh LOG
#
# Prints every offending line (with its line number and the test that was
# running, from the "### BEGIN name" markers of payload-run.sh) and exits 1
# if there is any, 0 otherwise.
#
# Only kernel messages are matched, i.e. text after a printk timestamp
# "[    1.234567] ", so that a test printing "WARNING:" cannot fail the run;
# the timestamp may follow other text on the same line, as console output
# of the kernel and of user space interleave.  Two lines of /init count too:
# it reports a tainted kernel and a lockdep that turned itself off, which
# catches a report whose header got mangled on the console.
set -eu

log=$1

# One alternative per kind of report.  Lockdep's reports start with
# "WARNING:", "BUG:" or "INFO:" (e.g. "INFO: trying to register non-static
# key"), hung tasks with "INFO: task ... blocked"; the bare word "lockdep"
# is not used, boot messages contain it.
kernel_re='BUG:|WARNING:|KASAN:|UBSAN:|Oops|general protection fault|Kernel panic'
kernel_re="$kernel_re"'|possible circular locking|possible recursive locking'
kernel_re="$kernel_re"'|inconsistent lock state|lock inversion|suspicious RCU usage'
kernel_re="$kernel_re"'|INFO: |locking correctness validator'
kernel_re="$kernel_re"'|sleeping function called from invalid context'
kernel_re="$kernel_re"'|rcu: .*detected stalls|Call Trace:'
# arm64 words its oopses and stack dumps its own way ("Unable to handle
# kernel paging request", "Internal error: Oops: ...", "Call trace:").
kernel_re="$kernel_re"'|Unable to handle kernel|Internal error:|Call trace:'
init_re='afork-init: (kernel tainted|lockdep turned itself off)'

# tr: a console log may hold NULs or CRs; awk wants plain text lines.
tr -d '\000\r' <"$log" | awk -v kre="$kernel_re" -v ire="$init_re" '
	/^### BEGIN / { test = $3 }
	/^### END /   { test = "" }
	{
		bad = 0
		if (match($0, /\[ *[0-9]+\.[0-9]+\] /)) {
			if (substr($0, RSTART + RLENGTH) ~ kre)
				bad = 1
		}
		if ($0 ~ ire)
			bad = 1
		if (bad) {
			n++
			printf "scan-splats: %d:%s %s\n", NR, (test != "" ? " [" test "]" : ""), $0
		}
	}
	END {
		if (n)
			printf "scan-splats: %d suspicious kernel line(s) in the log\n", n
		exit(n > 0)
	}'
