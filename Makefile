# yaim - yet another IP manager.  GNU make.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
# the child executables; compiled into yaimd: build and install with the
# same PREFIX/SBINDIR/LIBEXECDIR (DESIGN.md section 1)
LIBEXECDIR ?= $(PREFIX)/libexec/yaim
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= /lib/systemd/system
INITDIR	?= $(SYSCONFDIR)/init.d
DEFAULTDIR ?= $(SYSCONFDIR)/default
YAIM_CONF ?= $(SYSCONFDIR)/yaim/yaim.yml
DESTDIR	?=
YAIM_USER ?= _yaimd
YAIM_CHROOT ?= /var/empty/yaimd
# what "make install" puts in SBINDIR (more programs join this list)
SBIN_PROGS = yaimd yaimctl
# stripped like a package's binaries, unless NOSTRIP is set or
# DEB_BUILD_OPTIONS has nostrip (dh_strip then does it, keeping -dbgsym)
INSTALL_STRIP = $(if $(NOSTRIP)$(filter nostrip,$(DEB_BUILD_OPTIONS)),,-s)
VERSION	?= 0.1

BUILD	?= build
CC	?= cc
PKGS	 = libevent libcurl yaml-0.1 libcjson libmnl libcap-ng libpq libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2
# (not -D_FORTIFY_SOURCE: valgrind 3.19 reports a fortified memmove as an
# overlapping memcpy_chk, and the valgrind tests use this build; make deb
# builds with it, as Debian does)
CFLAGS	?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Icommon -I. $(PKG_CFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS	+= $(PKG_LIBS)
# Each executable links only what it uses (DESIGN.md section 1): the root
# parent maps neither libcurl, its TLS libraries, libpq nor cJSON.
PARENT_PKGS  = libevent yaml-0.1 libmnl libcap-ng
CHECKER_PKGS = libevent libcurl yaml-0.1 libcap-ng libpq
DCS_PKGS     = libevent libcurl yaml-0.1 libcjson libcap-ng libcrypto
PARENT_LIBS  := $(shell pkg-config --libs $(PARENT_PKGS) 2>/dev/null)
CHECKER_LIBS := $(shell pkg-config --libs $(CHECKER_PKGS) 2>/dev/null)
DCS_LIBS     := $(shell pkg-config --libs $(DCS_PKGS) 2>/dev/null)
AS_NEEDED    = -Wl,--as-needed
HELPERS	 = $(BUILD)/yaimd-checker $(BUILD)/yaimd-dcs

# Each process's main() lives in its own directory (yaimd/main.c,
# checker/main.c, dcs/main.c) and stays out of libyaim.a.
MAIN_SRCS := yaimd/main.c checker/main.c dcs/main.c
LIB_SRCS := $(sort $(filter-out $(MAIN_SRCS), \
	$(wildcard common/*.c parent/*.c checker/*.c dcs/*.c netif/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/main.o
CHECKER_MAIN_OBJ := $(BUILD)/checker/main.o
DCS_MAIN_OBJ := $(BUILD)/dcs/main.o
UNIT_SRCS := $(sort $(wildcard regress/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
TOOL_SRCS := $(sort $(wildcard regress/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:%.c=$(BUILD)/%)
FUZZ_SRCS := $(sort $(wildcard regress/fuzz/fuzz_*.c))
MANS	 = yaimd.8 yaimctl.8 yaim.yml.5
# yaimctl: libc and yaimd's pure message code, nothing else
CTL_OBJ	:= $(BUILD)/yaimctl.o
CTL_LIB	 = $(BUILD)/common/ctl.o $(BUILD)/common/imsg_wire.o \
	   $(BUILD)/common/proto.o $(BUILD)/common/addr.o

.PHONY: all deps check check-fresh check-cluster sanitize fuzz fuzz-build install clean \
	lint check-systemd deb check-deb \
	demo bench tests

all: tests $(BUILD)/yaimd $(HELPERS) $(BUILD)/yaimctl

tests: $(UNIT_BINS) $(TOOL_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# the binary is $(BUILD)/yaimd, so its main cannot live in $(BUILD)/yaimd/
# yaimd -V: the version, the build's libmnl and libcap-ng (neither has a
# version call), and the build's libraries of the children
$(MAIN_OBJ): CPPFLAGS += -DYAIM_VERSION='"$(VERSION)"' \
	-DYAIM_LIBMNL_VERSION='"$(shell pkg-config --modversion libmnl 2>/dev/null)"' \
	-DYAIM_LIBCAPNG_VERSION='"$(shell pkg-config --modversion libcap-ng 2>/dev/null)"' \
	-DYAIM_LIBCURL_VERSION='"$(shell pkg-config --modversion libcurl 2>/dev/null)"' \
	-DYAIM_LIBPQ_VERSION='"$(shell pkg-config --modversion libpq 2>/dev/null)"' \
	-DYAIM_CJSON_VERSION='"$(shell pkg-config --modversion libcjson 2>/dev/null)"'
$(MAIN_OBJ): yaimd/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libyaim.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/parent/helper.o: CPPFLAGS += -DYAIM_SBINDIR='"$(SBINDIR)"' \
	-DYAIM_LIBEXECDIR='"$(LIBEXECDIR)"'

$(BUILD)/yaimd: $(MAIN_OBJ) $(BUILD)/libyaim.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(AS_NEEDED) -o $@ $^ $(PARENT_LIBS)

$(BUILD)/yaimd-checker: $(CHECKER_MAIN_OBJ) $(BUILD)/libyaim.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(AS_NEEDED) -o $@ $^ $(CHECKER_LIBS)

$(BUILD)/yaimd-dcs: $(DCS_MAIN_OBJ) $(BUILD)/libyaim.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(AS_NEEDED) -o $@ $^ $(DCS_LIBS)

# like main.o: the binary is $(BUILD)/yaimctl
$(CTL_OBJ): CPPFLAGS += -DYAIM_VERSION='"$(VERSION)"'
$(CTL_OBJ): yaimctl/yaimctl.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/yaimctl: $(CTL_OBJ) $(CTL_LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/regress/%: $(BUILD)/regress/%.o $(BUILD)/libyaim.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	sh regress/deps.sh

# check and demo install what they need first, then re-read this file so
# that pkg-config sees the freshly installed libraries.
check: deps
	$(MAKE) all fuzz-build
	BUILD=$(BUILD) FUZZ_BUILD=$(FUZZ_BUILD) bash regress/run.sh

# make check in a fresh Debian 12 root (mmdebstrap), as a new user would
check-fresh:
	sh regress/fresh-root.sh

check-cluster: deps
	$(MAKE) all
	BUILD=$(BUILD) bash regress/run.sh cluster-all

# yaimd.service booted for real: a Debian root under systemd-nspawn
# (a minute or two; the first run builds the root, ~1.5 min more)
check-systemd:
	sh regress/deps.sh nspawn
	$(MAKE) all
	BUILD=$(BUILD) bash regress/systemd/nspawn.sh

# The Debian package, built from a copy of the tree (the build writes
# beside its source directory): $(BUILD)/deb/yaimd_*.deb, then lintian.
DEB_DIR = $(abspath $(BUILD))/deb
deb:
	sh regress/deps.sh deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 cp -P --parents -t $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on warning,error $(DEB_DIR)/*.changes

# The package installed into a fresh Debian root, yaimd -n there, purged
check-deb: deb
	BUILD=$(BUILD) bash regress/systemd/deb.sh

lint:
	@for m in $(MANS); do mandoc -Tlint -Wwarning $$m || exit 1; done

sanitize:
	$(MAKE) BUILD=build-san CC=clang \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" all
	BUILD=build-san SANITIZE=1 bash regress/run.sh

FUZZ_SECONDS ?= 30
FUZZ_BUILD = build-fuzz
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined
FUZZ_BINS = $(FUZZ_SRCS:regress/fuzz/%.c=$(FUZZ_BUILD)/%)

# The harnesses link a libyaim.a built with clang and the fuzzer runtime.
fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang EXTRA_CFLAGS="$(FUZZ_CFLAGS)" \
	    $(FUZZ_BUILD)/libyaim.a
	$(MAKE) $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: regress/fuzz/fuzz_%.c $(FUZZ_BUILD)/libyaim.a
	clang -std=c11 $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(FUZZ_BUILD)/libyaim.a $(LDLIBS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) \
	    bash regress/run.sh fuzz

# The unit and the init script name SBINDIR and YAIM_CONF; the config and
# /etc/default/yaimd are the operator's and never overwritten.
INSTALL_PATHS = sed -e 's|/usr/sbin/yaimd|$(SBINDIR)/yaimd|g' \
	    -e 's|/etc/yaim/yaim.yml|$(YAIM_CONF)|g' \
	    -e 's|/etc/default/yaimd|$(DEFAULTDIR)/yaimd|g'

install: $(SBIN_PROGS:%=$(BUILD)/%) $(HELPERS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR) \
	    $(DESTDIR)$(INITDIR) $(DESTDIR)$(DEFAULTDIR) \
	    $(DESTDIR)$(dir $(YAIM_CONF))
	for p in $(SBIN_PROGS); do \
		install -m 0755 $(INSTALL_STRIP) $(BUILD)/$$p \
		    $(DESTDIR)$(SBINDIR)/$$p || exit 1; \
	done
	for p in $(HELPERS); do \
		install -m 0755 $(INSTALL_STRIP) $$p $(DESTDIR)$(LIBEXECDIR)/ || \
		    exit 1; \
	done
	for m in $(MANS); do \
		install -d $(DESTDIR)$(MANDIR)/man$${m##*.} && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m || \
		    exit 1; \
	done
	$(INSTALL_PATHS) init/yaimd.service >$(BUILD)/yaimd.service
	install -m 0644 $(BUILD)/yaimd.service \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/yaimd.service
	$(INSTALL_PATHS) init/yaimd.init >$(BUILD)/yaimd.init
	install -m 0755 $(BUILD)/yaimd.init $(DESTDIR)$(INITDIR)/yaimd
	test -e $(DESTDIR)$(DEFAULTDIR)/yaimd || \
	    install -m 0644 init/yaimd.default $(DESTDIR)$(DEFAULTDIR)/yaimd
	test -e $(DESTDIR)$(YAIM_CONF) || \
	    install -m 0600 yaim.yml $(DESTDIR)$(YAIM_CONF)
	DESTDIR="$(DESTDIR)" sh regress/setup-user.sh "$(YAIM_USER)" \
	    "$(YAIM_CHROOT)"

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) bash regress/cluster/demo.sh

bench: deps
	$(MAKE) all
	BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf build build-san build-fuzz

.SECONDARY:

# (not the package's build tree, whose init.d is no dependency file)
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -type f -name '*.d' -print 2>/dev/null)
