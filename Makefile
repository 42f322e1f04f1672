# darkscope build.  `make` -> build/darkscope; `make sanitize` -> build-sanitize/darkscope (ASan+UBSan);
# `make test` installs what is missing, builds both, and runs every test; `make demo` runs the main job.
#
# Layers (each may use only those above it):
#   src/core     decode, classify, darknet sets, aggregation  (pure: no I/O)
#   src/geo      country/ASN tables loaded from MMDB or CSV files
#   src/capture  pcap/pcapng reader (mmap, gzip, zstd, stdin)
#   src/store    storage interface + SQLite backend
#   src/ingest   the pipeline: reader -> decode -> aggregate -> store
#   src/analysis queries over the store (top, ...)
#   src/report   periodic reports: model from analysis, names, charts (pango/cairo), html/md/json
#   src/synth    synthetic darknet traffic generator
#   src/net      live sensor (libpcap, spool, libcurl upload) and collector (libmicrohttpd)
#   src/util     errors, time, progress line (usable by every layer); config (uses core's prefix parser)
#   src/cli      one file per subcommand
CC      ?= cc
PKGS    := sqlite3 libmaxminddb zlib libzstd inih libxxhash libpcap nettle
# Loaded on first use by the one module that needs each (src/util/dynlib.h): compiled against
# their headers, not linked, so that every other command starts without them.  Their sonames are
# read off the libraries the headers belong to and passed to the modules (DS_SONAME_*).
DL_PKGS := pangocairo libmicrohttpd libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DL_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
soname = $(shell objdump -p "$$($(CC) -print-file-name=$(1).so)" 2>/dev/null | sed -n 's/^ *SONAME *//p')
soname_def = $(if $(2),-D$(1)='"$(2)"')
SONAME_DEFS := $(call soname_def,DS_SONAME_CURL,$(call soname,libcurl)) \
               $(call soname_def,DS_SONAME_MHD,$(call soname,libmicrohttpd)) \
               $(call soname_def,DS_SONAME_PANGOCAIRO,$(call soname,libpangocairo-1.0)) \
               $(call soname_def,DS_SONAME_PANGO,$(call soname,libpango-1.0)) \
               $(call soname_def,DS_SONAME_CAIRO,$(call soname,libcairo)) \
               $(call soname_def,DS_SONAME_GOBJECT,$(call soname,libgobject-2.0)) \
               $(call soname_def,DS_SONAME_GLIB,$(call soname,libglib-2.0))
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -Isrc $(WARN) $(PKG_CFLAGS) $(SONAME_DEFS) -pthread -MMD -MP
LDLIBS  := $(PKG_LIBS) -ldl -lm -pthread

BUILD ?= build
OPT   ?= -O2
CFLAGS_ALL = $(BASE_CFLAGS) $(OPT) $(EXTRA_CFLAGS)

LIB_SRC := $(sort $(wildcard src/core/*.c src/geo/*.c src/capture/*.c src/store/*.c src/ingest/*.c src/analysis/*.c src/report/*.c src/synth/*.c src/util/*.c src/net/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all sanitize tsan test unit deps geo demo fuzz fuzz-long bench clean
all: $(BUILD)/darkscope

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libdarkscope.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/darkscope: $(CLI_OBJ) $(BUILD)/libdarkscope.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libdarkscope.a $(LDLIBS) $(EXTRA_LDFLAGS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdarkscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(BUILD)/libdarkscope.a $(LDLIBS) -lcmocka $(EXTRA_LDFLAGS)

unit-bins: $(TEST_BIN)

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
sanitize:
	$(MAKE) BUILD=build-sanitize OPT=-O1 EXTRA_CFLAGS="$(SAN)" EXTRA_LDFLAGS="$(SAN)" build-sanitize/darkscope unit-bins

# ThreadSanitizer build (threads in ingest and top); tests/e2e/threads_tsan.sh runs it
tsan:
	$(MAKE) BUILD=build-tsan OPT=-O1 EXTRA_CFLAGS="-fsanitize=thread" EXTRA_LDFLAGS="-fsanitize=thread" build-tsan/darkscope

deps:
	@./scripts/deps.sh

geo: deps
	@./scripts/fetch-geo.sh data/geo

test: deps geo
	$(MAKE) all unit-bins
	$(MAKE) sanitize
	$(MAKE) tsan
	$(MAKE) fuzz-build
	./tests/run.sh

# libFuzzer targets (clang); `make test` runs each briefly, `make fuzz-long` for an hour each.
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst fuzz/%.c,build-fuzz/%,$(wildcard fuzz/fuzz_*.c))
fuzz-build:
	$(MAKE) CC=clang BUILD=build-fuzz OPT=-O1 EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" build-fuzz/libdarkscope.a $(FUZZ_TARGETS)
build-fuzz/fuzz_%: fuzz/fuzz_%.c build-fuzz/libdarkscope.a
	clang $(BASE_CFLAGS) -O1 $(FUZZ_FLAGS) -o $@ $< build-fuzz/libdarkscope.a $(LDLIBS)
fuzz-long: fuzz-build
	./fuzz/run.sh 3600

# a sub-make, as in `test`: this make read pkg-config's flags before deps installed the packages
demo: deps geo
	$(MAKE) all
	./scripts/demo.sh

bench: all
	./bench/all.sh

clean:
	rm -rf build build-sanitize build-tsan build-fuzz

-include $(shell find build build-sanitize build-tsan build-fuzz -name '*.d' 2>/dev/null)
