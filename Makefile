# The ways into kattn. Every target first installs the Debian packages it needs when they are
# missing (as root; otherwise it prints the apt-get line and stops).
#
#   make          configure and build everything into build/ (kattn at build/bin/kattn)
#   make check    everyday work: the release build and its tests only
#   make test     everything CI runs: format-check, the release suite, the suite again under
#                 ASan + UBSan (with the avx512 kernels emulated where the CPU lacks AVX-512F,
#                 so that they run everywhere), and the threaded floors (kernels, ops, layers)
#                 under ThreadSanitizer
#   make format-check  every C++ file as clang-format (.clang-format) writes it
#   make format   rewrites them so
#   make bench    same-run ratios of kattn against the sgemm ceiling and the peers
#                 (scripts/bench_peers; BENCH_FLAGS=--quick, --install)
#   make demo     build and run `kattn demo`
#   make install  install the library (static and shared), headers, CMake package, kattn.pc,
#                 the kattn program and its manual page under PREFIX (/usr/local), staged
#                 under DESTDIR when set
#   make deb      the Debian package build/kattn_<version>_<arch>.deb of the same, for /usr
#   make r        build the R package (r/) and install it into build/r-lib:
#                 .libPaths(c("build/r-lib", .libPaths())); library(kattn)
#   make r-docs   rewrite the R package's generated files (Rcpp exports, NAMESPACE, man/)
#   make test-r   R CMD check of the R package (its testthat suite included), then its
#                 text-similarity example run with Python made to fail
#   make fuzz     build the libFuzzer targets with clang and run each for FUZZ_SECONDS (60)

BUILD_DIR ?= build
SANITIZE_DIR ?= build-sanitize
THREAD_DIR ?= build-thread
# Warnings are errors in CI.
WERROR ?= $(if $(CI),ON,OFF)
JOBS ?= $(shell nproc)
PACKAGES := make cmake ninja-build g++ pkg-config nlohmann-json3-dev libopenblas-dev \
            libgtest-dev libgmock-dev libbenchmark-dev libzip-dev libhdf5-dev libfp16-dev \
            libsimde-dev libpng-dev clang-format r-base-dev r-cran-rcpp r-cran-testthat r-cran-magrittr \
            r-cran-jsonlite r-cran-roxygen2 help2man
# r/src/RcppExports.cpp is written by Rcpp::compileAttributes (make r-docs).
CXX_SOURCES = $(shell find src include tests tools benches fuzz examples r/src \
                \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) ! -name RcppExports.cpp)

CONFIGURE = cmake -S . -G Ninja -Wno-dev -DKATTN_WERROR=$(WERROR)

.PHONY: all deps build check test test-release test-sanitize test-thread test-r r r-docs format \
        format-check bench demo install deb fuzz clean

all: build

deps:
	@scripts/ensure-packages $(PACKAGES)

build: deps
	$(CONFIGURE) -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

check: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# One after another: each build takes both cores.
test: deps
	$(MAKE) format-check
	$(MAKE) test-release
	$(MAKE) test-r
	$(MAKE) test-sanitize
	$(MAKE) test-thread

test-release: check

format-check: deps
	@echo "clang-format --dry-run --Werror (every C++ file)"
	@clang-format --dry-run --Werror $(CXX_SOURCES)

format: deps
	clang-format -i $(CXX_SOURCES)

# Sanitized builds at -O1 with line tables only: half the compile time of -O2 -g, and stack
# traces still name every file and line.
SANITIZE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
# The avx512 kernels over SIMDe (software AVX-512) where the CPU cannot run them natively.
EMULATE_AVX512 := $(if $(shell grep -m1 -ow avx512f /proc/cpuinfo 2>/dev/null),OFF,ON)

test-sanitize: deps
	$(CONFIGURE) -B $(SANITIZE_DIR) $(SANITIZE_FLAGS) -DKATTN_SANITIZE=address,undefined \
	  -DKATTN_EMULATE_AVX512=$(EMULATE_AVX512)
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS)

# The floors with threaded code; OpenBLAS runs single-threaded here: its own threads are not
# instrumented.
THREAD_SUITES := kernels ops layers
test-thread: deps
	$(CONFIGURE) -B $(THREAD_DIR) $(SANITIZE_FLAGS) -DKATTN_SANITIZE=thread \
	  -DKATTN_BUILD_TOOLS=OFF -DKATTN_BUILD_BENCHMARKS=OFF
	cmake --build $(THREAD_DIR) -j $(JOBS) --target $(THREAD_SUITES:%=kattn_%_tests)
	for suite in $(THREAD_SUITES); do \
	  OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 $(THREAD_DIR)/bin/kattn_$${suite}_tests \
	    --gtest_brief=1 || exit 1; \
	done

# The R package compiles against this build's libkattn (build/pkgconfig/kattn-uninstalled.pc).
r: build
	scripts/r-package install $(BUILD_DIR)

r-docs: deps
	scripts/r-package docs

test-r: build
	scripts/r-package check $(BUILD_DIR)
	scripts/r-package install $(BUILD_DIR)
	scripts/r-package example $(BUILD_DIR)

BENCH_FLAGS ?=
bench: build
	scripts/bench_peers $(BENCH_FLAGS)

demo: build
	$(BUILD_DIR)/bin/kattn demo

PREFIX ?= /usr/local
# ldconfig (installing into this system as root) makes the new libkattn.so known to ld.so.
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix $(PREFIX)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then ldconfig; fi

deb: build
	@scripts/ensure-packages dpkg-dev
	cd $(BUILD_DIR) && cpack -G DEB

FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/ensure-packages clang libclang-rt-14-dev
	scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(THREAD_DIR) build-fuzz
