# SPDX-License-Identifier: MIT
#
# mk/flags.mk: the toolchain and the compiler flags that every component
# of the tree shares (lib/, lib/uring/, preload/, bench/, examples/, and
# the test suites).  A component's Makefile includes it first,
#
#     include $(srcdir)/../mk/flags.mk
#
# then says only what is its own (sources, flags, outputs) and includes
# mk/rules.mk for the rules that build them.  The default goal is "all".
#
# In (command line or environment):
#   CC, AR, PKG_CONFIG  the tools (cc, ar, pkg-config)
#   ARCH, CROSS_COMPILE the target; by default the compiler's (lib/arch.mk)
#   CFLAGS          optimisation and debugging (default -O2 -g), on every
#                   compile and link, before the component's own flags
#   CPPFLAGS, LDFLAGS  the caller's, on every compile, on every link
#   SANITIZE=1      the sanitizer variant: ASan and UBSan (SAN_* below)
#   V=1             full commands (mk/quiet.mk)
# Out:
#   top             the tree's root, absolute
#   ARCH, CC_MACHINE, CROSS_BUILD   the target (lib/arch.mk)
#   STD_CFLAGS      -std=gnu11 -D_GNU_SOURCE: the language of every C file
#   WARN            -Wall -Wextra -Werror
#   WARN_STRICT     WARN, -Wshadow -Wmissing-prototypes -Wstrict-prototypes:
#                   the libraries, the preload, the benches
#   SAN_CFLAGS, SAN_LDFLAGS  the sanitizer variant's compile and link flags
#                   (empty without SANITIZE=1); mk/rules.mk's commands
#                   carry them, so that everything of a component is built
#                   alike
#   DEPFLAGS        -MMD -MP into $@.d: each output's headers, which
#                   mk/rules.mk reads back (no hand-written header lists)
#   URING_CFLAGS, URING_LIBS  liburing: pkg-config's for a native build, the
#                   target's for a cross build (lib/arch.mk, which also sets
#                   URING_DEP, an order-only prerequisite that fetches it)
#   cc-option       $(call cc-option,FLAG): FLAG if $(CC) takes it, else nothing
#   Q, msg, quiet-path  (mk/quiet.mk)

ifndef mk_flags
mk_flags := 1

top := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
.DEFAULT_GOAL := all

include $(top)/mk/quiet.mk
# CC (and ARCH) first: the target is the compiler's.
include $(top)/lib/arch.mk

AR ?= ar
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g

STD_CFLAGS := -std=gnu11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Werror
WARN_STRICT := $(WARN) -Wshadow -Wmissing-prototypes -Wstrict-prototypes

ifeq ($(SANITIZE),1)
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
else
SAN_CFLAGS :=
SAN_LDFLAGS :=
endif

# -MT: the target as the rule names it, also for a program compiled and
# linked in one step (whose dependency file would otherwise name an object).
DEPFLAGS = -MMD -MP -MT $@ -MF $@.d

# A native build's liburing (a cross build's is lib/arch.mk's).
ifeq ($(origin URING_CFLAGS),undefined)
URING_CFLAGS := $(shell $(PKG_CONFIG) --cflags liburing 2>/dev/null)
endif
ifeq ($(origin URING_LIBS),undefined)
URING_LIBS := $(or $(shell $(PKG_CONFIG) --libs liburing 2>/dev/null),-luring)
endif

cc-option = $(shell $(CC) -Werror $(1) -c -x c /dev/null -o /dev/null 2>/dev/null && echo $(1))

endif
