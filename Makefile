# yaim - yet another IP manager.  GNU make.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR	?=
YAIM_USER ?= _yaimd
YAIM_CHROOT ?= /var/empty/yaimd

BUILD	?= build
CC	?= cc
PKGS	 = libevent libcurl yaml-0.1 libcjson libmnl libcap-ng libpq libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2
CFLAGS	?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Icommon -I. $(PKG_CFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS	+= $(PKG_LIBS)

LIB_SRCS := $(sort $(wildcard common/*.c parent/*.c checker/*.c dcs/*.c netif/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/main.o
UNIT_SRCS := $(sort $(wildcard regress/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
TOOL_SRCS := $(sort $(wildcard regress/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:%.c=$(BUILD)/%)
FUZZ_SRCS := $(sort $(wildcard regress/fuzz/fuzz_*.c))
MANS	 = yaimd.8 yaim.yml.5

.PHONY: all deps check check-cluster sanitize fuzz fuzz-build install clean \
	lint \
	demo bench tests

all: tests $(BUILD)/yaimd

tests: $(UNIT_BINS) $(TOOL_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# the binary is $(BUILD)/yaimd, so its main cannot live in $(BUILD)/yaimd/
$(MAIN_OBJ): yaimd/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libyaim.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/yaimd: $(MAIN_OBJ) $(BUILD)/libyaim.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/regress/%: $(BUILD)/regress/%.o $(BUILD)/libyaim.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	sh regress/deps.sh

# check and demo install what they need first, then re-read this file so
# that pkg-config sees the freshly installed libraries.
check: deps
	$(MAKE) all fuzz-build
	BUILD=$(BUILD) FUZZ_BUILD=$(FUZZ_BUILD) bash regress/run.sh

check-cluster: deps
	$(MAKE) all
	BUILD=$(BUILD) bash regress/run.sh cluster-all

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

install: $(BUILD)/yaimd
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/yaimd $(DESTDIR)$(SBINDIR)/yaimd
	install -m 0644 yaimd.8 $(DESTDIR)$(MANDIR)/man8/yaimd.8
	install -m 0644 yaim.yml.5 $(DESTDIR)$(MANDIR)/man5/yaim.yml.5
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

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
