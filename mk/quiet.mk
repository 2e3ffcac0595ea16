# SPDX-License-Identifier: MIT
#
# mk/quiet.mk: how much of a build make shows.  Included by mk/flags.mk
# (every component) and by the top-level Makefile.
#
# In:
#   V=1       show every command in full (default: a short line per output)
# Out:
#   Q         prefix of a recipe line: @ unless V=1
#   msg       a recipe line printing a short line: $(msg) CC path
#             (nothing with V=1, where the command itself shows)
#   quiet-path  $(call quiet-path,FILE): FILE relative to the tree's root
#             ($(top)) when it is under it, for the short lines
# Sub-makes do not print "Entering directory" unless V=1.

ifndef mk_quiet
mk_quiet := 1

ifeq ($(V),1)
Q :=
msg := @true
else
Q := @
msg := @printf '  %-7s %s\n'
MAKEFLAGS += --no-print-directory
endif
export V

quiet-path = $(patsubst $(top)/%,%,$(1))

endif
