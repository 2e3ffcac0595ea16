# SPDX-License-Identifier: MIT
#
# mk/install.mk: where make install puts things, and the commands that do
# it.  Included by mk/library.mk and by any component with an install
# rule (preload/).
#
# In (command line):
#   PREFIX      default /usr/local
#   LIBDIR      default $(PREFIX)/lib (Debian: /usr/lib/<triple>)
#   INCLUDEDIR  default $(PREFIX)/include
#   MANDIR      default $(PREFIX)/share/man
#   DESTDIR     a staging root, prefixed to each of them (not to what
#               the files say: afork.pc carries the paths without it)
# Out (commands for a recipe):
#   install-to  $(call install-to,MODE,DIR,FILES): FILES into $(DESTDIR)DIR,
#               made if need be
#   install-man $(call install-man,PAGES): each page into
#               $(DESTDIR)$(MANDIR)/man<section>, its section being its
#               suffix (afork.2 -> man2)

ifndef mk_install
mk_install := 1

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man

install-to = install -d $(DESTDIR)$(2) && install -m $(1) $(3) $(DESTDIR)$(2)/
install-man = $(foreach s,$(sort $(patsubst .%,%,$(suffix $(1)))), \
	$(call install-to,644,$(MANDIR)/man$(s),$(filter %.$(s),$(1))) &&) true

endif
