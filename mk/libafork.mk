# SPDX-License-Identifier: MIT
#
# mk/libafork.mk: for a component that links with libafork (preload/,
# bench/, examples/, the test suites).  Include it after mk/flags.mk.
#
# In:
#   AFORK_LIB   the folder of libafork.a and libafork-uring.a (default
#               build/host/lib); CC=, ARCH=, SANITIZE= given on the
#               command line reach the sub-make that builds them
# Out:
#   AFORK_A, AFORK_URING_A   the two static libraries
#   AFORK_CFLAGS             -I of libafork's public headers
#   AFORK_URING_CFLAGS       -I of libafork-uring's, and liburing's flags
#   AFORK_LDFLAGS            -pthread -Wl,-z,now: no lazy PLT binding in
#                            an afork child (afork(3)), last on a link line
#   rules that build the libraries into AFORK_LIB when they are missing
#   (the top-level Makefile builds them first); libafork-uring.a only as
#   the static library when LDFLAGS has -static (the guest's build)

ifndef mk_libafork
mk_libafork := 1

AFORK_LIB ?= $(top)/build/host/lib
override AFORK_LIB := $(abspath $(AFORK_LIB))
AFORK_A := $(AFORK_LIB)/libafork.a
AFORK_URING_A := $(AFORK_LIB)/libafork-uring.a
AFORK_CFLAGS := -I$(top)/lib/include
AFORK_URING_CFLAGS := -I$(top)/lib/uring/include $(URING_CFLAGS)
AFORK_LDFLAGS := -pthread -Wl,-z,now

$(AFORK_A):
	$(Q)$(MAKE) -C $(top)/lib O=$(AFORK_LIB)

$(AFORK_URING_A): $(AFORK_A)
	$(Q)$(MAKE) -C $(top)/lib/uring O=$(AFORK_LIB) $(if $(filter -static,$(LDFLAGS)),static)

endif
