# flowtop - plain Makefile: make, make check, make bench, make install, make deb.
#   PREFIX=/usr/local DESTDIR= SANITIZE=address,undefined CC=cc V=1 B=dir
#
# CPPFLAGS, CFLAGS and LDFLAGS are the user's (command line or environment,
# e.g. from dpkg-buildflags): the project's own flags live in FT_* variables
# that are always added, so `make CPPFLAGS=-D_FORTIFY_SOURCE=2` builds.
# V=1 shows the full commands.  B=dir builds out of tree: objects in dir, and
# the programs in dir too (the default B=build puts them in the top directory,
# where the tests look for them).

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/flowtop
DOCDIR     ?= $(PREFIX)/share/doc/flowtop
# logrotate and cron read only /etc, whatever the prefix
SYSCONFDIR ?= /etc
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
PKG_CONFIG ?= pkg-config
# systemd reads units from /usr/local/lib/systemd/system too; with
# PREFIX=/usr the distribution's directory (pkg-config systemd) is used.
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),$(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system),$(PREFIX)/lib/systemd/system)

PKGS_EMIT := libmnl libnetfilter_conntrack libmaxminddb yajl libcares nettle libxxhash
PKGS_VIEW := yajl ncursesw libxxhash

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
FT_CPPFLAGS := -Isrc/lib -Isrc/emit -Isrc/view -D_GNU_SOURCE \
            -DFLOWTOP_VERSION='"$(VERSION)"' -DFLOWTOP_DATADIR='"$(DATADIR)"'
FT_CFLAGS   := -std=c11 $(WARN)
FT_LDFLAGS  :=
ifneq ($(SANITIZE),)
FT_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
FT_LDFLAGS += -fsanitize=$(SANITIZE)
endif
# what every compile and link line gets: ours first, the user's after (so
# that the user's -O, -W and -D win)
ALL_CPPFLAGS = $(FT_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(FT_CFLAGS) $(CFLAGS)
ALL_LDFLAGS  = $(FT_LDFLAGS) $(LDFLAGS)

# quiet by default; V=1 prints the commands
ifeq ($(V),1)
Q   :=
msg  =
else
Q   := @
msg  = @printf '  %-6s %s\n' '$(1)' '$(2)';
MAKEFLAGS += --no-print-directory
endif

# pkg-config is asked once per make run; a missing library fails loudly.
EMIT_CFLAGS := $(foreach p,$(PKGS_EMIT),$(shell $(PKG_CONFIG) --cflags $(p)))
EMIT_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS_EMIT)) -lpthread
VIEW_CFLAGS := $(foreach p,$(PKGS_VIEW),$(shell $(PKG_CONFIG) --cflags $(p)))
VIEW_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS_VIEW))

B := build
# where the programs go: the top directory for the default build
OUTP := $(if $(filter build build/,$(B)),,$(patsubst %/,%,$(B))/)
# Objects remember the flags they were built with: switching SANITIZE or
# CFLAGS rebuilds everything instead of linking a mix.
FLAGS_STAMP := $(B)/.flags
FLAGS_NOW := $(CC) $(CPPFLAGS) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $(DATADIR)
$(shell mkdir -p $(B); [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP))
LIB_SRC  := $(wildcard src/lib/*.c)
EMIT_SRC := $(filter-out src/emit/main.c,$(wildcard src/emit/*.c))
VIEW_SRC := $(filter-out src/view/main.c,$(wildcard src/view/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
EMIT_OBJ := $(EMIT_SRC:%.c=$(B)/%.o)
VIEW_OBJ := $(VIEW_SRC:%.c=$(B)/%.o)

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%.t)

PROG_NAMES := flowtop-emit $(if $(wildcard src/view/main.c),flowtop-view) $(if $(wildcard src/flowtop.sh),flowtop)
PROGS := $(addprefix $(OUTP),$(PROG_NAMES))
EMIT_BIN := $(or $(OUTP),./)flowtop-emit

.PHONY: all check unit e2e bench fuzz install uninstall clean run deps man deb deb-check
all: $(PROGS) man

$(B)/src/lib/%.o: src/lib/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(EMIT_CFLAGS) $(VIEW_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/src/emit/%.o: src/emit/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(EMIT_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/src/view/%.o: src/view/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(VIEW_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libflowtop.a: $(LIB_OBJ)
	$(call msg,AR,$@)$(AR) rcs $@ $^
$(B)/libemit.a: $(EMIT_OBJ)
	$(call msg,AR,$@)$(AR) rcs $@ $^
$(B)/libview.a: $(VIEW_OBJ)
	$(call msg,AR,$@)$(AR) rcs $@ $^

$(OUTP)flowtop-emit: $(B)/src/emit/main.o $(B)/libemit.a $(B)/libflowtop.a
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(EMIT_LIBS)
$(OUTP)flowtop-view: $(B)/src/view/main.o $(B)/libview.a $(B)/libflowtop.a
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(VIEW_LIBS)
$(OUTP)flowtop: src/flowtop.sh
	$(call msg,GEN,$@)sed 's/@VERSION@/$(VERSION)/' $< > $@ && chmod +x $@

# Unit tests link whatever module they test; both program libraries are
# offered and the linker keeps what is used.
$(B)/tests/%.t: tests/unit/%.c tests/unit/tap.h $(B)/libemit.a $(B)/libflowtop.a $(if $(VIEW_OBJ),$(B)/libview.a)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(EMIT_CFLAGS) $(VIEW_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(B)/libemit.a $(if $(VIEW_OBJ),$(B)/libview.a) $(B)/libflowtop.a $(EMIT_LIBS) $(VIEW_LIBS)

# Man pages get the version; flowtop-emit's also gets its field list from
# the field table itself.
MANS := $(wildcard man/*.1)
MAN_OUT := $(MANS:man/%=$(B)/man/%)
man: $(MAN_OUT)
$(B)/man/flowtop-emit.1: man/flowtop-emit.1 $(OUTP)flowtop-emit
	@mkdir -p $(@D)
	$(call msg,GEN,$@)$(EMIT_BIN) --list-fields=man > $@.fields && \
	sed -e '/^\.\\" @FIELDS@/r $@.fields' -e '/^\.\\" @FIELDS@/d' \
	    -e 's/@VERSION@/$(VERSION)/' man/flowtop-emit.1 > $@ && \
	rm -f $@.fields
$(B)/man/%.1: man/%.1
	@mkdir -p $(@D)
	$(call msg,GEN,$@)sed 's/@VERSION@/$(VERSION)/' $< > $@

deps:
	$(Q)scripts/install-deps

# Test and benchmark helpers, never installed.
TOOLS := $(B)/tools/flowgen
$(B)/tools/flowgen: tests/tools/flowgen.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags libmnl libnetfilter_conntrack) $(ALL_LDFLAGS) \
		-o $@ $< $(shell $(PKG_CONFIG) --libs libmnl libnetfilter_conntrack)

TESTS ?= $(UNIT_BIN) $(sort $(wildcard tests/e2e/*.t))
# deps first, then a fresh make that sees the libraries pkg-config now finds
check: deps
	$(Q)$(MAKE) all $(UNIT_BIN) $(TOOLS)
	$(Q)prove --exec '' $(PROVE_FLAGS) $(TESTS)

unit: all $(UNIT_BIN)
	$(Q)prove --exec '' $(UNIT_BIN)

e2e: deps
	$(Q)$(MAKE) all $(TOOLS)
	$(Q)prove --exec '' $(PROVE_FLAGS) $(sort $(wildcard tests/e2e/*.t))

bench: deps
	$(Q)scripts/install-deps --bench
	$(Q)$(MAKE) all $(TOOLS)
	$(Q)scripts/bench

fuzz: deps
	$(Q)$(MAKE) all
	$(Q)scripts/fuzz $(FUZZ_SECONDS)

run: deps
	$(Q)$(MAKE) all
	@if [ -x $(or $(OUTP),./)flowtop ]; then exec $(or $(OUTP),./)flowtop --track $(RUN_ARGS); else exec $(EMIT_BIN) $(RUN_ARGS); fi

# Operations files: the unit and the examples name the programs by their
# installed path (/usr/bin in dist/), rewritten here for BINDIR.
DIST_EXAMPLES := dist/flowtop-emit.cron $(wildcard dist/shipping/*)
define install_subst
sed -e 's|/usr/bin/flowtop|$(BINDIR)/flowtop|g' -e 's|/usr/share/doc/flowtop|$(DOCDIR)|g' $(1) > $(2) && chmod $(3) $(2)
endef

install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(DOCDIR)/examples/shipping
	$(Q)install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	$(Q)install -m 644 $(MAN_OUT) $(DESTDIR)$(MANDIR)/man1/
	$(Q)$(call install_subst,dist/flowtop-emit.service,$(DESTDIR)$(UNITDIR)/flowtop-emit.service,644)
	$(Q)install -m 644 dist/flowtop-emit.logrotate $(DESTDIR)$(LOGROTATEDIR)/flowtop-emit
	$(Q)$(call install_subst,dist/flowtop-emit.cron,$(DESTDIR)$(DOCDIR)/examples/flowtop-emit.cron,644)
	$(Q)for f in $(wildcard dist/shipping/*); do \
		$(call install_subst,$$f,$(DESTDIR)$(DOCDIR)/examples/shipping/$${f##*/},644) || exit 1; done

uninstall:
	$(call msg,RM,$(DESTDIR)$(PREFIX))rm -f $(addprefix $(DESTDIR)$(BINDIR)/,flowtop-emit flowtop-view flowtop)
	$(Q)rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,flowtop-emit.1 flowtop-view.1 flowtop.1)
	$(Q)rm -f $(DESTDIR)$(UNITDIR)/flowtop-emit.service $(DESTDIR)$(LOGROTATEDIR)/flowtop-emit
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)/examples
	$(Q)rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR) 2>/dev/null || true

# A Debian package from a copy of the tree (so that the build's own clean
# leaves this tree's programs alone), built with dpkg-buildpackage without
# this make's variables (B, V, PREFIX...); the .deb lands in $(B)/deb/.  Build dependencies: scripts/install-deps --deb.
DEB_WORK := $(B)/deb/work
deb:
	$(Q)scripts/install-deps --deb
	$(Q)rm -rf $(DEB_WORK) && mkdir -p $(DEB_WORK)/flowtop-$(VERSION)
	$(call msg,COPY,$(DEB_WORK)/flowtop-$(VERSION))tar -c --exclude=./build --exclude='./$(B)' --exclude=./.git --exclude=./data \
		--exclude=./flowtop-emit --exclude=./flowtop-view --exclude=./flowtop . | tar -x -C $(DEB_WORK)/flowtop-$(VERSION)
	$(call msg,DPKG,$(B)/deb)cd $(DEB_WORK)/flowtop-$(VERSION) && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -30 ../build.log; exit 1; }; $(if $(filter 1,$(V)),cat ../build.log,:)
	$(Q)mv $(DEB_WORK)/*.deb $(DEB_WORK)/build.log $(B)/deb/ 2>/dev/null; rm -rf $(DEB_WORK)
	@ls $(B)/deb/*.deb

# builds the package in a directory of its own and checks what it installs
deb-check:
	$(Q)prove --exec '' $(PROVE_FLAGS) tests/deb/*.t

clean:
	$(call msg,CLEAN,$(B))rm -rf $(B) $(addprefix $(OUTP),flowtop-emit flowtop-view flowtop)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
