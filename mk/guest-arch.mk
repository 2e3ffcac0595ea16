# SPDX-License-Identifier: MIT
#
# mk/guest-arch.mk: which guest a make is for (the top-level Makefile and
# qemu/Makefile).
#
# In:
#   ARCH      x86_64 (or x86, amd64) or arm64 (or aarch64); by default the
#             host's.  Given on the command line it reaches every sub-make.
# Out:
#   HOSTARCH  uname -m
#   GARCH     x86_64 or arm64 (an error for anything else)
#   ASFX      "" for x86-64, "-arm64" for arm64: the suffix of every path
#             of the arm64 guest (build/kbuild-arm64, build/qemu-arm64,
#             ...), so that both guests can be built side by side
#             (docs/contracts.md, docs/arm64.md)

ifndef mk_guest_arch
mk_guest_arch := 1

HOSTARCH := $(shell uname -m)
ARCH     ?= $(if $(filter aarch64 arm64,$(HOSTARCH)),arm64,x86_64)
GARCH    := $(if $(filter x86 x86_64 amd64,$(ARCH)),x86_64,$(if $(filter arm64 aarch64,$(ARCH)),arm64))
ifeq ($(GARCH),)
$(error ARCH must be x86_64 or arm64 (got '$(ARCH)'))
endif
ASFX     := $(if $(filter arm64,$(GARCH)),-arm64)

endif
