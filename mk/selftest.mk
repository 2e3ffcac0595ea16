# SPDX-License-Identifier: MIT
#
# mk/selftest.mk: what every test suite of selftests/ shares (after
# kselftest's lib.mk): the harness headers, the build of its programs, the
# run that saves one TAP file per program, and a guest payload of them.
# A suite's Makefile names its programs and what is its own, then
# includes this:
#
#     TEST_GEN_PROGS := foo_test bar_test
#     include ../../mk/selftest.mk
#
# In (the suite's Makefile, before the include):
#   TEST_GEN_PROGS  the programs, each from NAME.c in the suite's folder
#                   (kselftest_harness.h or kselftest.h: TAP, exit 4 = skip)
#   TEST_PROGS      scripts run after them, from the suite's folder
#   TEST_SRCS       a program of several sources: "TEST_SRCS := NAME a.c b.c"
#                   (one program per suite; its NAME.c is among them)
#   PROG_CFLAGS, PROG_LIBS  as in mk/rules.mk, to add to ("+=") for all,
#                   or per program ("$(OUTPUT)/NAME: PROG_LIBS := ...");
#                   by default the programs link libafork.a
#   SUITE           the guest payload's prefix of a program's name
#                   (default: the folder's name)
#   TAP_PREFIX      put before each TAP file's name (default: none)
#   RUN_ENV         VAR=VALUE words every program and script runs with
#   RUN_ARGS        arguments every program (not script) gets
#   GUEST_ENV, GUEST_ARGS, GUEST_SECS  the same for vm-payload's entries,
#                   and their timeout (default 1200 s)
# In (command line):
#   OUTPUT          where the programs go (default: the suite's folder)
#   AFORK_LIB       the libafork.a (and libafork-uring.a) to link
#   KSFT_DIR        the kernel's tools/testing/selftests for the harness
#                   (default: the extracted tree's, else the two headers
#                   taken from Debian's source tarball into build/)
#   LOGDIR          where run_tests puts the TAP files
#   PAYLOAD         where vm-payload lays out its payload
#   and mk/flags.mk's: CC, CFLAGS, LDFLAGS (-static), SANITIZE, ARCH, V
# Targets:
#   all             the programs
#   run_tests       each program and script, TAP into $(LOGDIR); fails if
#                   one fails (an exit status other than 0 or 4)
#   vm-payload      a guest payload of the programs (qemu/payload.sh):
#                   build them static (LDFLAGS=-static AFORK_LIB=...), boot
#                   it with make -C qemu vm-run PAYLOAD=$(PAYLOAD)
#   clean

ifndef mk_selftest
mk_selftest := 1

suite_dir := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
include $(suite_dir)/../../mk/flags.mk
include $(top)/mk/libafork.mk

SUITE ?= $(notdir $(suite_dir))
OUTPUT ?= $(suite_dir)
override OUTPUT := $(abspath $(OUTPUT))
LOGDIR ?= $(top)/build/logs/host

# --- the harness ------------------------------------------------------------------
KSFT_TARBALL ?= $(top)/build/linux-source/linux-source-7.3.tar.xz
KSFT_PRIVATE := $(top)/build/ksft-headers/linux-source-7.3/tools/testing/selftests
KSFT_DIR ?= $(firstword $(wildcard $(top)/build/linux/tools/testing/selftests) $(KSFT_PRIVATE))
KSFT_HARNESS := $(KSFT_DIR)/kselftest_harness.h

$(KSFT_PRIVATE)/kselftest_harness.h:
	@mkdir -p $(top)/build/ksft-headers
	$(Q)[ -s $(KSFT_TARBALL) ] || $(top)/qemu/fetch-source.sh $(KSFT_TARBALL)
	$(Q)tar -C $(top)/build/ksft-headers -xf $(KSFT_TARBALL) \
		linux-source-7.3/tools/testing/selftests/kselftest_harness.h \
		linux-source-7.3/tools/testing/selftests/kselftest.h
	$(Q)touch $@

# --- the programs -------------------------------------------------------------------
# The harness macros leave parameters unused (the kernel builds them
# without -Wextra); -z now: no lazy PLT binding in afork children (afork(3)).
PROG_CFLAGS += $(STD_CFLAGS) $(WARN) -Wno-unused-function -Wno-unused-parameter \
	$(AFORK_CFLAGS) -I$(top)/uapi -isystem $(KSFT_DIR) -pthread
PROG_LIBS ?= $(AFORK_A)
PROG_LDFLAGS := $(AFORK_LDFLAGS)
ORDER_DEPS := $(KSFT_HARNESS) $(URING_DEP)

multi := $(firstword $(TEST_SRCS))
PROGS := $(filter-out $(multi),$(TEST_GEN_PROGS))
BINDIR := $(OUTPUT)
SRCDIR := $(suite_dir)
OBJDIR := $(OUTPUT)/obj
SRCS := $(wordlist 2,$(words $(TEST_SRCS)),$(TEST_SRCS))
include $(top)/mk/rules.mk

ifneq ($(multi),)
$(OBJS): OBJ_CFLAGS = $(PROG_CFLAGS)
$(OUTPUT)/$(multi): $(OBJS) $(filter %.a,$(PROG_LIBS))
	$(msg) LD $(call quiet-path,$@)
	$(Q)$(LINK) -o $@ $(OBJS) $(PROG_LIBS) $(LDFLAGS) $(PROG_LDFLAGS)
endif

all: $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))

clean:
	$(Q)rm -rf $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS)) \
		$(addsuffix .d,$(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))) $(OBJDIR)

# --- the run --------------------------------------------------------------------------
run_tests: all
	@mkdir -p $(LOGDIR)
	@rc=0; for t in $(TEST_GEN_PROGS) $(TEST_PROGS); do \
		case $$t in \
		*.sh) p=$(suite_dir)/$$t a= ;; \
		*) p=$(OUTPUT)/$$t a='$(RUN_ARGS)' ;; \
		esac; \
		tap=$(LOGDIR)/$(TAP_PREFIX)$${t%.sh}.tap; \
		env $(RUN_ENV) $$p $$a >$$tap 2>&1; r=$$?; \
		echo "  $$t: exit $$r ($$tap)"; \
		case $$r in 0|4) ;; *) rc=1 ;; esac; \
	done; exit $$rc

PAYLOAD ?= $(top)/build/vm-payload-$(SUITE)
GUEST_SECS ?= 1200
vm-payload: all
	$(Q)$(top)/qemu/payload.sh init $(PAYLOAD)
	$(Q)for t in $(TEST_GEN_PROGS); do \
		$(top)/qemu/payload.sh add $(PAYLOAD) $(SUITE)-$$t $(GUEST_SECS) \
			$(OUTPUT)/$$t $(GUEST_ENV) -- $(GUEST_ARGS) || exit 1; \
	done
	@echo "==> $(PAYLOAD): $(TEST_GEN_PROGS)"

.PHONY: all clean run_tests vm-payload

endif
