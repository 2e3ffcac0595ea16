# SPDX-License-Identifier: MIT
#
# The target of a build of libafork or of something linked with it; every
# Makefile of the tree that compiles C includes this first, with $(top)
# set to the tree's root.
#
# The target is the compiler's, not the build machine's: CC=aarch64-linux-gnu-gcc
# builds for arm64 wherever it runs.  ARCH= may name it (x86_64, amd64 or
# x86; aarch64 or arm64): with make's default CC it picks
# $(CROSS_COMPILE)gcc (for arm64 aarch64-linux-gnu-gcc) when the default
# compiler builds for something else.  ARCH and $(CC) must agree.
#
# Sets ARCH (x86_64 or aarch64), CC_MACHINE (the compiler's triple) and
# CROSS_BUILD (1 when the target is not the build machine).  For a cross
# build, also URING_CFLAGS, URING_LIBS and URING_DEP: liburing from
# Debian's packages for the target, unpacked under build/cross/<arch> by
# scripts/cross-liburing.sh (the rule for $(URING_DEP)); a native build
# leaves them to the including Makefile (the system's liburing).

arch_name = $(patsubst arm64,aarch64,$(patsubst amd64,x86_64,$(patsubst x86,x86_64,$(1))))
cc_machine = $(shell $(1) -dumpmachine 2>/dev/null)

ifneq ($(ARCH),)
override ARCH := $(call arch_name,$(ARCH))
ifeq ($(origin CC),default)
ifneq ($(ARCH),$(call arch_name,$(firstword $(subst -, ,$(call cc_machine,$(CC))))))
CROSS_COMPILE ?= $(ARCH)-linux-gnu-
CC := $(CROSS_COMPILE)gcc
endif
endif
endif

CC_MACHINE := $(call cc_machine,$(CC))
CC_ARCH := $(call arch_name,$(firstword $(subst -, ,$(CC_MACHINE))))
ifeq ($(ARCH),)
override ARCH := $(CC_ARCH)
endif
ifneq ($(ARCH),$(CC_ARCH))
$(error ARCH=$(ARCH), but $(CC) builds for $(or $(CC_MACHINE),nothing: is it installed?))
endif
ifeq ($(filter x86_64 aarch64,$(ARCH)),)
$(error libafork supports x86_64 and aarch64, not $(ARCH) ($(CC) builds for $(CC_MACHINE)))
endif

CROSS_BUILD := $(if $(filter-out $(call arch_name,$(shell uname -m)),$(ARCH)),1)

ifeq ($(CROSS_BUILD),1)
deb_arch := $(patsubst aarch64,arm64,$(patsubst x86_64,amd64,$(ARCH)))
URING_SYSROOT ?= $(top)/build/cross/$(deb_arch)
URING_CFLAGS ?= -I$(URING_SYSROOT)/usr/include
URING_LIBS ?= -L$(URING_SYSROOT)/usr/lib/$(CC_MACHINE) -luring
URING_DEP := $(URING_SYSROOT)/usr/include/liburing.h

arch_mk_goal := $(.DEFAULT_GOAL)
$(URING_DEP):
	$(top)/scripts/cross-liburing.sh $(deb_arch) $(URING_SYSROOT) $(CC)

# That rule is not the including Makefile's default goal.
.DEFAULT_GOAL := $(arch_mk_goal)
endif
