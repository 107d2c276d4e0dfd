# libFuzzer targets for the parsers of untrusted input (DESIGN.md section 8):
# boot input, and what a guest writes to its local APIC and platform devices.
# Included by the top-level Makefile; also works alone, from the repo root:
#   make -f tests/fuzz/fuzz.mk fuzz-smoke
#   fuzz-smoke  each target for FUZZ_SMOKE_SECONDS (default 8)
#   fuzz        each target for FUZZ_SECONDS (default 600)
#   fuzz-seeds  rewrite the generated seeds in tests/fuzz/corpus/ (seeds checked in
#               by hand, in vmm_loader/, vlapic/ and vmm_devices/, are kept: gen_seeds
#               writes only its own files)
# One target: make -f tests/fuzz/fuzz.mk FUZZ_TARGETS=vlapic fuzz-smoke
# Results: build/test-results/fuzz-<target>.txt ("PASS fuzz.<t>" or
# "FAIL fuzz.<t>: ..."), the fuzzer's output in fuzz-<target>.log, crash
# inputs in build/fuzz-artifacts/<target>/, new corpus inputs in
# build/fuzz-corpus/<target>/ (the seeds are read, never written).

FUZZ_MK := $(lastword $(MAKEFILE_LIST))

HOST_CLANG         ?= clang
HOST_CC            ?= gcc
FUZZ_SMOKE_SECONDS ?= 8
FUZZ_SECONDS       ?= 600
FUZZ_MAX_LEN       ?= 16384
FUZZ_RSS_MB        ?= 2048
FUZZ_CFLAGS ?= -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -Ikernel -Itests/unit
FUZZ_BUILD     ?= build/fuzz
FUZZ_RESULTS   ?= build/test-results
FUZZ_ARTIFACTS ?= build/fuzz-artifacts
FUZZ_WORK      ?= build/fuzz-corpus
FUZZ_SEEDS     := tests/fuzz/corpus

FUZZ_COMMON  := kernel/fmt.c kernel/diag.c kernel/strutil.c
FUZZ_HEADERS := $(wildcard kernel/*.h tests/unit/*.h tests/fuzz/*.h)
FUZZ_BOOTINFO_SRCS := kernel/bootinfo.c kernel/multiboot1.c kernel/multiboot2.c kernel/memmap.c \
    kernel/cmdline.c

FUZZ_TARGETS := cmdline multiboot1 multiboot2 acpi memmap guest_walk mmio_decode elf_check manifest
FUZZ_SRCS_cmdline    := kernel/cmdline.c
FUZZ_SRCS_multiboot1 := $(FUZZ_BOOTINFO_SRCS)
FUZZ_SRCS_multiboot2 := $(FUZZ_BOOTINFO_SRCS)
FUZZ_SRCS_acpi       := kernel/acpi_tables.c kernel/acpi_madt.c kernel/acpi_timers.c
FUZZ_SRCS_memmap     := kernel/memmap.c
FUZZ_SRCS_guest_walk := kernel/guest_walk.c
FUZZ_SRCS_mmio_decode := kernel/mmio_decode.c
FUZZ_SRCS_elf_check   := kernel/elf_check.c
FUZZ_SRCS_manifest    := user/init/manifest.c user/init/manifest_keys.c user/lib/numparse.c \
    user/init/manifest.h user/init/manifest_internal.h user/lib/numparse.h
# The VMM's multiboot loader and argument parser (guest-loader/).
FUZZ_TARGETS         += vmm_loader
FUZZ_SRCS_vmm_loader := guest-loader/mb_image.c guest-loader/mb_info.c guest-loader/args.c \
    user/lib/numparse.c guest-loader/multiboot.h guest-loader/args.h user/lib/numparse.h

# The core's virtual local APIC (kernel/apic/vlapic*.c), driven through
# MMIO, MSRs, IPIs, MSIs and time. Seeds in corpus/vlapic/, written by hand in
# fuzz_vlapic.c's input format: each name says what it programs.
FUZZ_TARGETS         += vlapic
FUZZ_SRCS_vlapic     := kernel/apic/vlapic.c kernel/apic/vlapic_regs.c kernel/apic/vlapic_timer.c \
    kernel/apic/vlapic_route.c kernel/apic/vlapic.h kernel/apic/vlapic_internal.h
# The VMM's platform devices (guest-loader/: PIC, IOAPIC, PIT, RTC, ACPI PM,
# fw_cfg) through ports, MMIO, IRQ lines and time. They need only kstring.h
# (-Ikernel). Seeds in corpus/vmm_devices/, by hand, as for vlapic/.
FUZZ_TARGETS          += vmm_devices
FUZZ_SRCS_vmm_devices := guest-loader/pic.c guest-loader/ioapic.c guest-loader/pit.c \
    guest-loader/rtc.c guest-loader/acpi_pm.c guest-loader/fw_cfg.c guest-loader/pic.h \
    guest-loader/ioapic.h guest-loader/pit.h guest-loader/rtc.h guest-loader/acpi_pm.h \
    guest-loader/fw_cfg.h guest-loader/irq.h

FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

define FUZZ_PROGRAM
$(FUZZ_BUILD)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(FUZZ_SRCS_$(1)) $$(FUZZ_COMMON) $$(FUZZ_HEADERS) \
    $(FUZZ_MK)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(HOST_CLANG) $$(FUZZ_CFLAGS) $$(filter %.c,$$^) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_PROGRAM,$(t))))

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seeds
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := fuzz-smoke
endif

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/gen_seeds: tests/fuzz/gen_seeds.c
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -O1 -Wall -Wextra -Werror $< -o $@

fuzz-seeds: $(FUZZ_BUILD)/gen_seeds
	$(FUZZ_BUILD)/gen_seeds $(FUZZ_SEEDS)

# Runs every target for $(1) seconds, whatever the others do, then fails if
# any did. A target that did not build, crashed, leaked, timed out or ran out
# of memory gets a FAIL line naming its crash input.
define FUZZ_RUN
	@mkdir -p $(FUZZ_RESULTS)
	-@$(MAKE) --no-print-directory -k -f $(FUZZ_MK) HOST_CLANG='$(HOST_CLANG)' fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    out=$(FUZZ_RESULTS)/fuzz-$$t.txt; log=$(FUZZ_RESULTS)/fuzz-$$t.log; \
	    art=$(FUZZ_ARTIFACTS)/$$t; \
	    if [ ! -x $(FUZZ_BUILD)/fuzz_$$t ]; then \
	        echo "FAIL fuzz.$$t: fuzz_$$t.c did not build (see the output above)" > $$out; \
	        cat $$out; continue; \
	    fi; \
	    mkdir -p $(FUZZ_WORK)/$$t $$art; \
	    echo "fuzz: $$t for $(1) s"; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(1) -rss_limit_mb=$(FUZZ_RSS_MB) \
	        -max_len=$(FUZZ_MAX_LEN) -timeout=10 -print_final_stats=1 \
	        -artifact_prefix=$$art/ $(FUZZ_WORK)/$$t $(FUZZ_SEEDS)/$$t > $$log 2>&1; \
	    rc=$$?; \
	    if [ $$rc -eq 0 ]; then \
	        echo "PASS fuzz.$$t" > $$out; \
	    else \
	        crash=$$(sed -n 's/.*Test unit written to \(.*\)$$/\1/p' $$log | tail -n 1); \
	        why=$$(grep -m1 -E 'ERROR: |invariant failed|runtime error' $$log | cut -c1-160); \
	        echo "FAIL fuzz.$$t: status $$rc: $${why:-see $$log}; input: $${crash:-none}" > $$out; \
	    fi; \
	    cat $$out; \
	done; \
	fail=$$(cat $(FUZZ_TARGETS:%=$(FUZZ_RESULTS)/fuzz-%.txt) | grep -c '^FAIL '); \
	echo "fuzz: $$(($(words $(FUZZ_TARGETS)) - fail)) passed, $$fail failed"; \
	[ $$fail -eq 0 ]
endef

fuzz-smoke:
	$(call FUZZ_RUN,$(FUZZ_SMOKE_SECONDS))

fuzz:
	$(call FUZZ_RUN,$(FUZZ_SECONDS))
