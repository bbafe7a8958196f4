# flowtop - plain Makefile: make, make check, make bench, make install.
#   PREFIX=/usr/local DESTDIR= SANITIZE=address,undefined CC=cc

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/flowtop
PKG_CONFIG ?= pkg-config

PKGS_EMIT := libmnl libnetfilter_conntrack libmaxminddb yajl
PKGS_VIEW := yajl ncursesw

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -Isrc/lib -Isrc/emit -Isrc/view -D_GNU_SOURCE \
            -DFLOWTOP_VERSION='"$(VERSION)"' -DFLOWTOP_DATADIR='"$(DATADIR)"'
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS)
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# pkg-config is asked once per make run; a missing library fails loudly.
EMIT_CFLAGS := $(foreach p,$(PKGS_EMIT),$(shell $(PKG_CONFIG) --cflags $(p)))
EMIT_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS_EMIT)) -lpthread
VIEW_CFLAGS := $(foreach p,$(PKGS_VIEW),$(shell $(PKG_CONFIG) --cflags $(p)))
VIEW_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS_VIEW))

B := build
# Objects remember the flags they were built with: switching SANITIZE or
# CFLAGS rebuilds everything instead of linking a mix.
FLAGS_STAMP := $(B)/.flags
FLAGS_NOW := $(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) $(DATADIR)
$(shell mkdir -p $(B); [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP))
LIB_SRC  := $(wildcard src/lib/*.c)
EMIT_SRC := $(filter-out src/emit/main.c,$(wildcard src/emit/*.c))
VIEW_SRC := $(filter-out src/view/main.c,$(wildcard src/view/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
EMIT_OBJ := $(EMIT_SRC:%.c=$(B)/%.o)
VIEW_OBJ := $(VIEW_SRC:%.c=$(B)/%.o)

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%.t)

PROGS := flowtop-emit $(if $(wildcard src/view/main.c),flowtop-view) $(if $(wildcard src/flowtop.sh),flowtop)

.PHONY: all check unit e2e bench fuzz install uninstall clean run deps man
all: $(PROGS) man

$(B)/src/lib/%.o: src/lib/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(EMIT_CFLAGS) $(VIEW_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/src/emit/%.o: src/emit/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(EMIT_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/src/view/%.o: src/view/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(VIEW_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libflowtop.a: $(LIB_OBJ)
	$(AR) rcs $@ $^
$(B)/libemit.a: $(EMIT_OBJ)
	$(AR) rcs $@ $^
$(B)/libview.a: $(VIEW_OBJ)
	$(AR) rcs $@ $^

flowtop-emit: $(B)/src/emit/main.o $(B)/libemit.a $(B)/libflowtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(EMIT_LIBS)
flowtop-view: $(B)/src/view/main.o $(B)/libview.a $(B)/libflowtop.a
	$(CC) $(LDFLAGS) -o $@ $^ $(VIEW_LIBS)
flowtop: src/flowtop.sh
	sed 's/@VERSION@/$(VERSION)/' $< > $@ && chmod +x $@

# Unit tests link whatever module they test; both program libraries are
# offered and the linker keeps what is used.
$(B)/tests/%.t: tests/unit/%.c tests/unit/tap.h $(B)/libemit.a $(B)/libflowtop.a $(if $(VIEW_OBJ),$(B)/libview.a)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(EMIT_CFLAGS) $(VIEW_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(B)/libemit.a $(if $(VIEW_OBJ),$(B)/libview.a) $(B)/libflowtop.a $(EMIT_LIBS) $(VIEW_LIBS)

# Man pages get the version; flowtop-emit's also gets its field list from
# the field table itself.
MANS := $(wildcard man/*.1)
MAN_OUT := $(MANS:man/%=$(B)/man/%)
man: $(MAN_OUT)
$(B)/man/flowtop-emit.1: man/flowtop-emit.1 flowtop-emit
	@mkdir -p $(@D)
	./flowtop-emit --list-fields=man > $@.fields
	sed -e '/^\.\\" @FIELDS@/r $@.fields' -e '/^\.\\" @FIELDS@/d' \
	    -e 's/@VERSION@/$(VERSION)/' man/flowtop-emit.1 > $@
	rm -f $@.fields
$(B)/man/%.1: man/%.1
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/' $< > $@

deps:
	scripts/install-deps

# Test and benchmark helpers, never installed.
TOOLS := $(B)/tools/flowgen
$(B)/tools/flowgen: tests/tools/flowgen.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags libmnl libnetfilter_conntrack) $(LDFLAGS) \
		-o $@ $< $(shell $(PKG_CONFIG) --libs libmnl libnetfilter_conntrack)

TESTS ?= $(UNIT_BIN) $(sort $(wildcard tests/e2e/*.t))
# deps first, then a fresh make that sees the libraries pkg-config now finds
check: deps
	$(MAKE) all $(UNIT_BIN) $(TOOLS)
	prove --exec '' $(PROVE_FLAGS) $(TESTS)

unit: all $(UNIT_BIN)
	prove --exec '' $(UNIT_BIN)

bench: deps
	scripts/install-deps --bench
	$(MAKE) all $(TOOLS)
	scripts/bench

fuzz: deps
	$(MAKE) all
	scripts/fuzz $(FUZZ_SECONDS)

run: deps
	$(MAKE) all
	@if [ -x ./flowtop ]; then exec ./flowtop --track $(RUN_ARGS); else exec ./flowtop-emit $(RUN_ARGS); fi

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(MAN_OUT) $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,flowtop-emit flowtop-view flowtop)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,flowtop-emit.1 flowtop-view.1 flowtop.1)
	-rmdir $(DESTDIR)$(DATADIR) 2>/dev/null

clean:
	rm -rf $(B) flowtop-emit flowtop-view flowtop

-include $(shell find $(B) -name '*.d' 2>/dev/null)
