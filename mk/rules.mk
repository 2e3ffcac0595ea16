# SPDX-License-Identifier: MIT
#
# mk/rules.mk: the rules that compile a component's sources, each output
# with its -MMD dependencies.  Include it after mk/flags.mk, once the
# component has set what it builds:
#
#   objects (a library, a program of several files):
#     SRCDIR      where the sources are (default: the current folder)
#     OBJDIR      where their objects go
#     SRCS        the sources, .c or .S, relative to SRCDIR; a subfolder
#                 stays: arch/x86_64/trampoline.S -> $(OBJDIR)/arch/x86_64/trampoline.o
#     OBJ_CFLAGS  the component's flags for them; a target-specific
#                 "$(SOME_OBJS): OBJ_CFLAGS += ..." adds to some only
#   programs of one source each, compiled and linked in one step
#   (kselftest's TEST_GEN_PROGS, the examples):
#     PROGS       their names: $(BINDIR)/NAME from $(PROG_SRCDIR)/NAME.c
#     BINDIR      where they go;  PROG_SRCDIR  (default SRCDIR)
#     PROG_CFLAGS the flags of their compile
#     PROG_LIBS   what they link after the source: archives (also their
#                 prerequisites) and -l flags.  For one program of several,
#                 "$(BINDIR)/NAME: PROG_LIBS := ..." and, for a new archive,
#                 "$(BINDIR)/NAME: that.a"
#     PROG_LDFLAGS  last on their link line (-pthread -Wl,-z,now, ...)
#   a program of several sources: its sources in SRCS, and a rule of the
#   component's that links $(OBJS) with $(LINK) (one compile per source,
#   so that each has its own .d file)
#   both:
#     ORDER_DEPS  order-only prerequisites (a cross build's liburing: URING_DEP)
#     DEPFILES    "DEPFILES += $(OUT).d" before the include, for an output
#                 of the component's own rule whose recipe uses $(COMPILE)
# Out:
#   OBJS        the objects of SRCS, in the order of SRCS
#   COMPILE     the start of a compile command: $(COMPILE) FLAGS -c -o $@ $<
#               (CC, DEPFLAGS, CPPFLAGS, CFLAGS, SAN_CFLAGS)
#   LINK        the start of a link command:  $(LINK) -o $@ INPUTS LIBS $(LDFLAGS) ...
#   LINK_SO     the start of a shared object's link (-shared, -z defs,
#               now, noexecstack): $(LINK_SO) -o $@ OBJECTS -Wl,--version-script=MAP LIBS
#
# An output that has no .d file yet (a new one, or one built before the
# .d files existed) is rebuilt: its .d file is a prerequisite, made by an
# empty rule.

ifndef mk_rules
mk_rules := 1

SRCDIR ?= $(CURDIR)
PROG_SRCDIR ?= $(SRCDIR)

COMPILE = $(CC) $(DEPFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_CFLAGS)
LINK = $(CC) $(CFLAGS) $(SAN_LDFLAGS)
LINK_SO = $(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-z,defs -Wl,-z,now -Wl,-z,noexecstack

OBJS := $(patsubst %,$(OBJDIR)/%.o,$(basename $(SRCS)))
c_objs := $(patsubst %.c,$(OBJDIR)/%.o,$(filter %.c,$(SRCS)))
s_objs := $(patsubst %.S,$(OBJDIR)/%.o,$(filter %.S,$(SRCS)))
prog_bins := $(addprefix $(BINDIR)/,$(PROGS))

$(c_objs): $(OBJDIR)/%.o: $(SRCDIR)/%.c $(OBJDIR)/%.o.d | $(ORDER_DEPS)
	$(msg) CC $(call quiet-path,$@)
	@mkdir -p $(@D)
	$(Q)$(COMPILE) $(OBJ_CFLAGS) -c -o $@ $<

# CFLAGS too: on x86-64, -fcf-protection defines __CET__, for which an
# assembly file adds endbr64 and the GNU property note.
$(s_objs): $(OBJDIR)/%.o: $(SRCDIR)/%.S $(OBJDIR)/%.o.d | $(ORDER_DEPS)
	$(msg) AS $(call quiet-path,$@)
	@mkdir -p $(@D)
	$(Q)$(COMPILE) $(OBJ_CFLAGS) -c -o $@ $<

$(prog_bins): $(BINDIR)/%: $(PROG_SRCDIR)/%.c $(BINDIR)/%.d $(filter %.a,$(PROG_LIBS)) \
		| $(ORDER_DEPS)
	$(msg) CC $(call quiet-path,$@)
	@mkdir -p $(@D)
	$(Q)$(COMPILE) $(PROG_CFLAGS) -o $@ $< $(PROG_LIBS) $(LDFLAGS) $(SAN_LDFLAGS) \
		$(PROG_LDFLAGS)

DEPFILES += $(addsuffix .d,$(OBJS) $(prog_bins))
ifneq ($(strip $(DEPFILES)),)
$(DEPFILES): ;
-include $(wildcard $(DEPFILES))
endif

endif
