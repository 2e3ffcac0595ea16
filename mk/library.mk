# SPDX-License-Identifier: MIT
#
# mk/library.mk: one of the project's libraries, static and shared, with
# its pkg-config file and its install rule (lib/: libafork; lib/uring/:
# libafork-uring).  Include it after mk/flags.mk, once these are set; it
# includes mk/rules.mk (the objects) and mk/install.mk (PREFIX, ...).
#
# In:
#   LIB         the name: LIB=afork makes libafork.a and
#               libafork.so.$(SOVERSION).MINOR.PATCH, soname libafork.so.$(SOVERSION)
#   O           where they go
#   SRCDIR, OBJDIR, SRCS, OBJ_CFLAGS, ORDER_DEPS  the objects (mk/rules.mk);
#               OBJ_CFLAGS gets LIB_CFLAGS added
#   LIB_MAP     the version script: what the shared library exports, versioned
#   LIB_LDLIBS  what the shared library links after its objects
#   LIB_LDDEPS  more prerequisites of the shared library
#   LIB_PC      the pkg-config template: @PREFIX@ @LIBDIR@ @INCLUDEDIR@ @VERSION@
#   LIB_HEADERS the headers make install installs into INCLUDEDIR
#   LIB_MAN     the man pages it installs (mk/install.mk's install-man)
#   SOVERSION   the soname's ABI number (default 1), bumped only on an
#               incompatible change; the file name carries the release
#   SANITIZE=1  the static library only: a sanitized shared library cannot
#               link with -z defs
# Out:
#   VERSION     MAJOR.MINOR.PATCH: the project's one version, defined in
#               lib/include/afork.h
#   LIB_CFLAGS  the flags of a library's objects (-fPIC, hidden visibility)
#   STATIC, SHARED, SONAME, PC   the files
#   LIB_OUTPUTS everything it makes in $(O), links included (for clean)
# Targets: all, static (the static library and the .pc file), install.

ifndef mk_library
mk_library := 1

hdr_ver = $(shell sed -n 's/^\#define AFORK_VERSION_$(1) \([0-9]*\)/\1/p' $(top)/lib/include/afork.h)
VERSION_MAJOR := $(call hdr_ver,MAJOR)
VERSION_MINOR := $(call hdr_ver,MINOR)
VERSION_PATCH := $(call hdr_ver,PATCH)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SOVERSION ?= 1

LIB_CFLAGS := -fPIC -fvisibility=hidden -fno-semantic-interposition
OBJ_CFLAGS += $(LIB_CFLAGS)

include $(top)/mk/rules.mk
include $(top)/mk/install.mk

STATIC := $(O)/lib$(LIB).a
SONAME := lib$(LIB).so.$(SOVERSION)
SOFILE := $(SONAME).$(VERSION_MINOR).$(VERSION_PATCH)
SHARED := $(O)/$(SOFILE)
PC := $(O)/$(notdir $(LIB_PC:.in=))
LIB_OUTPUTS := $(STATIC) $(O)/lib$(LIB).so $(O)/$(SONAME) $(SHARED) $(PC)

ifeq ($(SANITIZE),1)
all: static
else
all: static $(SHARED)
endif
static: $(STATIC) $(PC)

$(STATIC): $(OBJS)
	$(msg) AR $(call quiet-path,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(SHARED): $(OBJS) $(LIB_MAP) $(LIB_LDDEPS)
	$(msg) LD $(call quiet-path,$@)
	$(Q)$(LINK_SO) -o $@ $(OBJS) -Wl,-soname,$(SONAME) \
		-Wl,--version-script=$(LIB_MAP) $(LIB_LDLIBS)
	$(Q)ln -sf $(SOFILE) $(O)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(O)/lib$(LIB).so

# Made anew on every run (cheaply: replaced only when it differs), so that
# the PREFIX, LIBDIR and INCLUDEDIR given to `make install` are the ones it
# says, whatever an earlier build used.
$(PC): $(LIB_PC) FORCE
	@mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		$< > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

install: all
	$(msg) INSTALL "lib$(LIB) into $(DESTDIR)$(PREFIX)"
	$(Q)$(call install-to,644,$(INCLUDEDIR),$(LIB_HEADERS))
	$(Q)$(call install-to,644,$(LIBDIR),$(STATIC))
	$(Q)$(call install-to,755,$(LIBDIR),$(SHARED))
	$(Q)ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/lib$(LIB).so
	$(Q)$(call install-to,644,$(LIBDIR)/pkgconfig,$(PC))
	$(Q)$(call install-man,$(LIB_MAN))

FORCE:

.PHONY: all static install FORCE

endif
