# mars: top-level build. See README for the targets.
#
#   make                 marsadm and mars.ko (for KDIR, default: the running kernel)
#   make check           install deps, unit tests under ASan/UBSan, module audit
#                        for both supported kernels, VM smoke tests
#   make check-full      make check, then the audit mutations, a 10x larger
#                        crash-state run and the VM tests in full
#   make demo            two VMs: a primary with ext4, a secondary following it
#   make check-debug     a debug kernel (KASAN, lockdep, kmemleak; built once,
#                        cached), then the main VM tests on it (not in check)
#   make install         DESTDIR=... KDIR=...
#   make clean           remove every build product

SHELL := /bin/sh
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?= 6.1 6.12
JOBS ?= 2
# The unit tests mostly wait (timers, sockets): one more than the cores.
CTEST_JOBS ?= 3
DESTDIR ?=
PREFIX ?= /usr

CMAKE_USER := $(BUILD)/user
CMAKE_CHECK := $(BUILD)/check
CMAKE_FUZZ := $(BUILD)/fuzz
CMAKE_BENCH := $(BUILD)/bench
FUZZ_SECONDS ?= 60
MARSADM := $(CMAKE_USER)/userspace/marsadm/marsadm

.PHONY: all marsadm module install clean deps check check-unit check-module \
	check-source check-vm check-full check-debug demo fuzz bench-core bench

all: marsadm module

$(CMAKE_USER)/CMakeCache.txt:
	cmake -S $(TOP) -B $(CMAKE_USER) -DCMAKE_BUILD_TYPE=RelWithDebInfo

marsadm: $(CMAKE_USER)/CMakeCache.txt
	cmake --build $(CMAKE_USER) -j$(JOBS) --target marsadm

module:
	$(MAKE) -C $(TOP)/kernel KDIR=$(KDIR)

install: marsadm module
	release=$$($(MAKE) -s -C $(TOP)/kernel KDIR=$(KDIR) release) && \
	install -D -m 0755 $(MARSADM) $(DESTDIR)$(PREFIX)/sbin/marsadm && \
	install -D -m 0644 $(BUILD)/kernel/$$release/mars.ko \
		$(DESTDIR)/lib/modules/$$release/extra/mars.ko
	@if [ -z "$(DESTDIR)" ]; then depmod -a "$$($(MAKE) -s -C $(TOP)/kernel KDIR=$(KDIR) release)"; fi

clean:
	rm -rf $(BUILD)

deps:
	$(TOP)/scripts/install-deps

# The VM tests' marsadm is built while the module is audited (both use the
# two cores only in part); its log is shown if it fails.
check: deps
	$(MAKE) -C $(TOP) check-source check-unit
	mkdir -p $(BUILD)
	$(MAKE) -C $(TOP) marsadm >$(BUILD)/marsadm-build.log 2>&1 & pid=$$!; \
	$(MAKE) -C $(TOP) check-module; rc=$$?; \
	if ! wait $$pid; then cat $(BUILD)/marsadm-build.log; exit 1; fi; \
	exit $$rc
	$(MAKE) -C $(TOP) check-vm
	@echo "make check: all checks passed"

check-source:
	$(TOP)/scripts/check-core-includes

# The unit tests are built with clang: under the sanitizers it compiles them in
# two thirds of gcc's time, and its AddressSanitizer also finds stack uses
# after scope. gcc builds the same code for marsadm (check-vm) and the module.
check-unit:
	cmake -S $(TOP) -B $(CMAKE_CHECK) -DCMAKE_BUILD_TYPE=Debug -DMARS_SANITIZE=ON \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(CMAKE_CHECK) -j$(JOBS)
	cd $(CMAKE_CHECK) && ctest -j$(CTEST_JOBS) --output-on-failure

check-module:
	@for k in $(KERNELS); do \
		kdir=$$($(TOP)/scripts/kernel-headers $$k) && \
		MARS_JOBS=$(JOBS) $(TOP)/scripts/check-module $$kdir || exit 1; \
	done

check-vm: marsadm
	$(TOP)/testing/vm/run-tests --kernel all

# See it work (testing/vm/demo): a cluster of two VMs, ext4 on the primary's
# /dev/mars/r0, the secondary following, its replica checked with e2fsck.
demo: deps marsadm
	$(TOP)/testing/vm/demo

# make check, then the proof that the module audit can fail (a module with
# one deliberate violation each: about 45 s, kept out of make check for its
# time budget), the crash-state checker (docu/crash-consistency.md) on
# CRASH_STATES states with another enumeration seed than make check's, then
# the VM tests in their full form (MARS_VM_FULL=1): every FLUSH/FUA crash
# point of test_crash_replay and every fault scenario.
CRASH_STATES ?= 100000
check-full: check
	MARS_JOBS=$(JOBS) $(TOP)/scripts/check-module-mutations $$($(TOP)/scripts/kernel-headers 6.1)
	cd $(CMAKE_CHECK) && MARS_CRASH_STATES=$(CRASH_STATES) MARS_CRASH_SEED=2 \
		ctest -j$(JOBS) --output-on-failure -R '^Workloads/CrashConsistency'
	MARS_VM_FULL=1 $(TOP)/testing/vm/run-tests --kernel all crash_replay faults \
		replication_faults replication_mars_faults
	@echo "make check-full: all checks passed"

# The VM tests that matter most, on a debug kernel built from Debian's
# linux-source-6.1 with KASAN, lockdep, kmemleak, debugobjects and
# atomic-sleep checks (scripts/build-debug-kernel: ~15 min on an idle 2-core
# machine, an hour on a busy one; cached in the VM kit's cache afterwards).
# Any KASAN, lockdep or kmemleak report fails a test. See testing/vm/README.md
# "Debug kernel".
DEBUG_TESTS ?= smoke write_path::test_fio_verify write_path::test_ext4 \
	write_path::test_attach_detach_cycles faults::test_log_errors \
	replication::test_secondaries_follow
check-debug: deps marsadm
	JOBS=$(JOBS) $(TOP)/scripts/build-debug-kernel
	$(TOP)/testing/vm/run-tests --kernel 6.1-debug $(DEBUG_TESTS)
	$(TOP)/scripts/check-module $$($(TOP)/scripts/build-debug-kernel --print)/linux
	@echo "make check-debug: all checks passed"

# libFuzzer targets (clang), each run for FUZZ_SECONDS from the checked-in seeds.
fuzz:
	cmake -S $(TOP) -B $(CMAKE_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMARS_FUZZ=ON \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(CMAKE_FUZZ) -j$(JOBS)
	$(TOP)/testing/fuzz/run-fuzzers $(CMAKE_FUZZ) $(FUZZ_SECONDS)

# Core throughput against memcpy, from an optimised build.
bench-core:
	cmake -S $(TOP) -B $(CMAKE_BENCH) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(CMAKE_BENCH) -j$(JOBS) --target core_bench
	$(CMAKE_BENCH)/testing/bench/core_bench

# bench-core, then fetch, replay and replication lag next to a plain socket
# copy and a raw sequential write measured in the same run
# (docu/benchmarks.md; informational, never pass/fail).
bench: bench-core
	cmake --build $(CMAKE_BENCH) -j$(JOBS) --target replication_bench
	$(CMAKE_BENCH)/testing/bench/replication_bench
