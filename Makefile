# afork: the top-level entry point.  It only says what to build and in which
# order; the sub-makes (lib/, qemu/, selftests/, bench/) do the work.
#
#   make            the library (build/host/lib)
#   make run        build the patched kernel, boot it, run the afork demo
#   make check      every test: host (all backends, sanitizers) and guest,
#                   and on an x86-64 host a part of the arm64 guest (ARM64=)
#   make vm-check   the guest part of make check only
#   make vm-check T='afork clone3 afork.release_*'   only what matches
#   make vm-run PAYLOAD=DIR   boot the patched kernel, run DIR/run
#   make bench      benchmarks on the host; make vm-bench in the guest
#   make install PREFIX=/usr [LIBDIR=... INCLUDEDIR=... MANDIR=...] DESTDIR=...
#   make clean-room CMD="make run"   CMD in a fresh Debian 12 root (root only)
#
#   make run|vm-check|vm-run|vm-bench|guest-payload|kernel ARCH=arm64
#                   the same in the arm64 guest (QEMU virt, cross-built on
#                   x86-64; docs/arm64.md); ARCH defaults to the host's.
#                   GUEST_LIB=no: the guest payload without the library's
#                   programs (the kernel's own tests only)
#
# V=1 shows full commands.  Outputs go to build/ (docs/contracts.md).

ROOT    := $(CURDIR)
B       := $(ROOT)/build
LOGS    := $(B)/logs
LINUX   := $(B)/linux
KSFT    := $(LINUX)/tools/testing/selftests

# ARCH: the guest's architecture (mk/guest-arch.mk: GARCH, ASFX).  Given on
# the command line it reaches every sub-make (qemu/, lib/, selftests/).
include $(ROOT)/mk/guest-arch.mk
ifeq ($(GARCH),arm64)
# The guest's compiler: cross from any other host.
GUEST_CC := $(if $(filter aarch64 arm64,$(HOSTARCH)),gcc,aarch64-linux-gnu-gcc)
# How the guest's static programs are built: the sub-makes' CC and ARCH.
GXFLAGS := CC=$(GUEST_CC) ARCH=arm64
# The guest run's timeout (x86-64: 2700 s).  The whole arm64 payload took
# 19 min on this 2-core machine (docs/arm64.md), three times x86-64's 7.
GUEST_TIMEOUT := 3600
else
GUEST_CC = $(CC)
GXFLAGS :=
GUEST_TIMEOUT := 2700
endif
UAPI    := $(B)/uapi-headers$(ASFX)
GUEST   := $(B)/guest$(ASFX)
PAYLOAD_DIR := $(B)/vm-payload$(ASFX)
GLOGS   := $(LOGS)/guest$(ASFX)
STAGES  := $(LOGS)/stages$(ASFX)
# GUEST_LIB=no: leave the library's programs out of the guest payload (for
# a guest whose architecture the library does not build for yet).
GUEST_LIB ?= yes

# Q, and V=1 for full commands (mk/quiet.mk, as in every component).
include $(ROOT)/mk/quiet.mk

# $(call stage,NAME,COMMAND): run a step of make check; if it fails, record
# the failure as a TAP file so that the summary counts it, and go on.
stage = $(Q)mkdir -p $(STAGES); \
	if { $(2); } >$(STAGES)/$(1).log 2>&1; then \
		printf '1..1\nok 1 stage %s\n' '$(1)' >$(STAGES)/$(1).tap; \
	else \
		printf '1..1\nnot ok 1 stage %s (see build/logs/stages$(ASFX)/%s.log)\n' \
			'$(1)' '$(1)' >$(STAGES)/$(1).tap; \
		echo "==> stage $(1) FAILED:"; tail -n 30 $(STAGES)/$(1).log; \
	fi

.PHONY: fuzz stress lint sparse
.PHONY: all deps lib check check-all check-guest host-check host-tests vm-check guest-tests \
	guest-payload runner-tests clean-room run vm-run bench vm-bench install clean distclean \
	afork-selftests-guest kernel

all: lib

# The build's Debian packages (scripts/install-deps.sh, apt-get): make deps,
# and make check and make run, which call it; never a plain make.
deps:
	$(Q)scripts/install-deps.sh all

# The host's library, its io_uring part, the preload and the examples.
LIB_PARTS := lib lib/uring preload examples
lib:
	$(Q)for d in $(LIB_PARTS); do $(MAKE) -C $$d || { \
		echo "==> make -C $$d failed; a missing package? make deps installs them" >&2; \
		exit 1; }; done

kernel:
	$(Q)$(MAKE) -C qemu kernel headers

# --- make check ---------------------------------------------------------------

# T='PATTERN...' (check, vm-check): only the guest programs or test cases
# that match (qemu/select-tests.sh); check then skips the host part.  The
# summary line says that the run was a subset.
export T
ifneq ($(strip $(T)),)
export AFORK_SUBSET := $(T)
check: vm-check
else ifneq ($(ASFX),)
check: check-guest
else
check: check-all
endif

# ARM64 (make check on an x86-64 host): how much of the arm64 guest it runs
# after the x86-64 parts.
#   ci   (default) the kernel's tests (the series', clone3, pidfd) and the
#        library's, without its longest programs: lib-afork_release_test
#        (138 s in the x86-64 guest, its 2,000-child release races),
#        spawn-spawn_oracle_test and stress-popen_fork_stress, most of the
#        full run's 19 minutes under TCG (docs/arm64.md)
#   all  every program, as make check ARCH=arm64
#   no   none
ARM64 ?= ci
ARM64_CI_T := afork clone3 pidfd lib-afork_arch lib-afork_backend lib-afork_gdb \
	lib-afork_seed lib-afork_tls lib-afork_badarg lib-afork_exec lib-afork_flags \
	lib-afork_handle lib-afork_pool lib-afork_signal lib-afork_test uring- \
	spawn-popen spawn-spawn_test fuzz- stress-afork
ARM64_LOGS := $(if $(filter no,$(ARM64)),,$(LOGS)/stages-arm64 $(LOGS)/guest-arm64 \
	$(LOGS)/runner-arm64)

check-all:
	$(Q)rm -rf $(LOGS)/host $(LOGS)/host-asan $(LOGS)/guest $(LOGS)/stages $(LOGS)/runner \
		$(LOGS)/stages-arm64 $(LOGS)/guest-arm64 $(LOGS)/runner-arm64
	$(Q)scripts/install-deps.sh all
	@echo "==> host tests (kernel $$(uname -r): clone3 and vfork backends)"
	$(call stage,host,$(MAKE) host-tests)
	@echo "==> guest tests (patched kernel under QEMU: the syscall backend too)"
	$(call stage,guest,$(MAKE) guest-tests)
	@echo "==> tests of the guest runner (qemu/tests: verdicts, splats, payload kinds)"
	$(call stage,runner,$(MAKE) runner-tests)
ifneq ($(ARM64),no)
	@echo "==> arm64 guest (ARM64=$(ARM64): QEMU virt under TCG, the same patched kernel cross-built)"
	$(call stage,arm64,$(MAKE) check-guest ARCH=arm64 \
		$(if $(filter ci,$(ARM64)),T='$(ARM64_CI_T)'))
endif
	$(Q)scripts/summary.sh $(LOGS)/stages $(LOGS)/host $(LOGS)/host-asan $(LOGS)/guest \
		$(LOGS)/runner $(ARM64_LOGS)

# make check ARCH=arm64: the guest and the runner's tests in that guest.
# The host part belongs to the host's own architecture (make check).
check-guest:
	$(Q)rm -rf $(GLOGS) $(STAGES) $(LOGS)/runner$(ASFX)
	$(call stage,guest,$(MAKE) guest-tests)
	$(call stage,runner,$(MAKE) runner-tests)
	$(Q)scripts/summary.sh $(STAGES) $(GLOGS) $(LOGS)/runner$(ASFX)

host-check:
	$(Q)rm -rf $(LOGS)/host $(LOGS)/host-asan
	$(Q)$(MAKE) host-tests; scripts/summary.sh $(LOGS)/host $(LOGS)/host-asan

vm-check:
	$(Q)rm -rf $(GLOGS) $(STAGES)
	$(call stage,guest,$(MAKE) guest-tests)
	$(Q)scripts/summary.sh $(STAGES) $(GLOGS)

# --- the host test matrix -------------------------------------------------------
# Each variant of HOST_VARIANTS builds the libraries into build/<variant>/lib
# with its flags, then runs every suite of its list: selftests/<suite>'s
# run_tests, TAP into build/logs/<variant>/<suite>.  A suite that fails
# does not stop the others: its TAP says what failed (scripts/summary.sh).
SUITES := lib uring spawn fuzz stress
HOST_VARIANTS := host host-asan
host_SUITES := $(SUITES)
host-asan_SUITES := lib uring spawn
# What a variant gives every make of its own, and its environment.
host-asan_FLAGS := SANITIZE=1 CC=clang
host-asan_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
host-asan_TITLE := under ASan + UBSan
# What a suite adds in one variant: the host's dynamic programs only.
host_lib_FLAGS := INSTALL_TEST=1
host_spawn_FLAGS := PRELOAD_TEST=1

# $(call suite-args,VARIANT,SUITE): the arguments of that suite's make.
suite-args = -C selftests/$(2) run_tests $($(1)_FLAGS) $($(1)_$(2)_FLAGS) \
	AFORK_LIB=$(B)/$(1)/lib OUTPUT=$(B)/$(1)/selftests/$(2) LOGDIR=$(LOGS)/$(1)/$(2)

host-suites-%:
	@echo "==> host tests$(if $($*_TITLE), $($*_TITLE)): $($*_SUITES)"
	$(Q)$(MAKE) -C lib O=$(B)/$*/lib $($*_FLAGS)
	$(Q)$(MAKE) -C lib/uring O=$(B)/$*/lib $($*_FLAGS)
	$(Q)$(foreach s,$($*_SUITES),$($*_ENV) $(MAKE) $(call suite-args,$*,$(s));) true

# The host half: the sources and objects checked, the bench's and the
# examples' own checks, lint, then the matrix.
host-tests: lib
	$(Q)$(MAKE) -C qemu kernel-tree
	$(Q)scripts/check-sources.sh $(LOGS)/host >/dev/null
	$(Q)scripts/check-objects.sh $(LOGS)/host >/dev/null || true
	$(Q)$(MAKE) -C bench check LOGDIR=$(LOGS)/host || true
	$(call stage,examples-spawn,$(MAKE) -C examples check-spawn O=$(B)/host/examples)
	$(Q)scripts/lint.sh >$(LOGS)/host/lint.tap 2>&1 || true
	$(Q)$(foreach v,$(HOST_VARIANTS),$(MAKE) host-suites-$(v) &&) true

# The guest half: build the patched kernel and a static payload, boot, split
# the console log into one TAP file per program.
guest-tests: guest-payload
	$(Q)mkdir -p $(GLOGS)
	$(Q)$(MAKE) -C qemu vm-run PAYLOAD=$(PAYLOAD_DIR) LOG=$(GLOGS)/console.log \
		TIMEOUT=$(GUEST_TIMEOUT) >$(GLOGS)/vm-run.out 2>&1; rc=$$?; \
	grep -E '^==>|^run-vm:' $(GLOGS)/vm-run.out; \
	qemu/split-log.sh $(GLOGS)/console.log $(GLOGS); exit $$rc

# For arm64, every static program is built with $(GXFLAGS) (the cross
# compiler, ARCH=arm64) into the -arm64 folders; the sub-makes are the same.
guest-payload: kernel
	$(Q)$(MAKE) -C qemu ksft-payload
	$(Q)$(MAKE) afork-selftests-guest
ifneq ($(GUEST_LIB),no)
	$(Q)$(MAKE) -C lib O=$(GUEST)/lib all demo DEMO_LDFLAGS=-static $(GXFLAGS)
	$(Q)$(MAKE) -C lib/uring O=$(GUEST)/lib static $(GXFLAGS)
	$(Q)$(MAKE) -C examples O=$(GUEST)/examples AFORK_LIB=$(GUEST)/lib LDFLAGS=-static $(GXFLAGS)
	$(Q)for d in $(SUITES); do \
		$(MAKE) -C selftests/$$d OUTPUT=$(GUEST)/selftests/$$d \
		AFORK_LIB=$(GUEST)/lib LDFLAGS=-static KSFT_DIR=$(KSFT) $(GXFLAGS) || exit 1; done
else
	$(Q)rm -rf $(GUEST)/lib $(GUEST)/selftests $(GUEST)/examples
endif
	$(Q)$(if $(ASFX),GUEST_ARCH=$(GARCH) GUEST_DIR=$(GUEST) KSFT_PAYLOAD=$(B)/vm-payload-ksft$(ASFX) )scripts/guest-payload.sh $(PAYLOAD_DIR)
	$(if $(strip $(T)),$(Q)echo "==> selecting T=$$T" && qemu/select-tests.sh $(PAYLOAD_DIR) "$$T")

# The syscall's own tests, built from the patched tree (the series carries
# them as tools/testing/selftests/afork; scripts/check-sources.sh checks
# that selftests/afork is the same source).
afork-selftests-guest:
	$(Q)mkdir -p $(GUEST)/afork
	$(Q)$(MAKE) -C $(KSFT)/afork OUTPUT=$(GUEST)/afork \
		CC="$(GUEST_CC) -static" KHDR_INCLUDES="-isystem $(UAPI)/include" \
		$(if $(Q),-s) all

# The runner's own tests (qemu/tests/run-tests.sh), as one TAP file.
runner-tests: kernel
	$(Q)mkdir -p $(LOGS)/runner$(ASFX)
	$(Q)$(MAKE) -C qemu selftest >$(LOGS)/runner$(ASFX)/qemu-runner.tap 2>&1; rc=$$?; \
	grep -E '^not ok' $(LOGS)/runner$(ASFX)/qemu-runner.tap; exit $$rc

# --- the demo and the guest runner --------------------------------------------

run: kernel
	$(Q)$(MAKE) -C lib O=$(GUEST)/lib demo DEMO_LDFLAGS=-static $(GXFLAGS)
	$(Q)qemu/payload.sh init $(B)/vm-demo$(ASFX)
	$(Q)qemu/payload.sh add $(B)/vm-demo$(ASFX) afork-demo 300 $(GUEST)/lib/afork-demo
	$(Q)$(MAKE) -C qemu vm-run PAYLOAD=$(B)/vm-demo$(ASFX) LOG=$(LOGS)/vm-demo$(ASFX).log TIMEOUT=300

vm-run:
	$(Q)$(MAKE) -C qemu vm-run PAYLOAD=$(abspath $(PAYLOAD))

# --- benchmarks, fuzzing, stress, static analysis ------------------------------

bench: lib
	$(Q)$(MAKE) -C bench bench stall popen runtimes

# The arm64 guest: the blocked-time bench only (its stall bench would need
# a 6 GiB guest under the slower arm64 TCG).
# (The host's library is not a prerequisite there: ARCH=arm64 on the
# command line would reach its make too.)
vm-bench: $(if $(ASFX),,lib)
	$(Q)$(MAKE) -C bench $(if $(ASFX),vm-bench,vm-bench vm-stall) $(GXFLAGS)

fuzz: lib
	$(Q)$(MAKE) -C selftests/fuzz fuzz OUTPUT=$(B)/host/selftests/fuzz LOGDIR=$(LOGS)/fuzz

stress: lib
	$(Q)$(MAKE) -C selftests/stress stress OUTPUT=$(B)/host/selftests/stress LOGDIR=$(LOGS)/stress

lint:
	$(Q)scripts/lint.sh

sparse: kernel
	$(Q)scripts/sparse.sh

# --- the clean room: a new user's machine (scripts/clean-room.sh) ------------

export CMD
clean-room:
	$(Q)[ -n "$$CMD" ] || { echo 'usage: make clean-room CMD="make run"' >&2; exit 2; }
	$(Q)scripts/clean-room.sh "$$CMD"

# --- install -------------------------------------------------------------------

install:
	$(Q)$(MAKE) -C lib install
	$(Q)$(MAKE) -C lib/uring install
	$(Q)$(MAKE) -C preload install

clean:
	$(Q)$(MAKE) -C lib clean
	$(Q)$(MAKE) -C lib/uring clean
	$(Q)$(MAKE) -C examples clean
	$(Q)$(MAKE) -C qemu clean
	$(Q)rm -rf $(B)/host $(B)/host-asan $(B)/guest $(B)/vm-payload $(B)/vm-demo $(LOGS)
	$(if $(ASFX),$(Q)rm -rf $(GUEST) $(PAYLOAD_DIR) $(B)/vm-demo$(ASFX))

distclean:
	rm -rf $(B)
