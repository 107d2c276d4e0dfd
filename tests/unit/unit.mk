# Host unit tests of the core's pure-logic modules (DESIGN.md section 8).
# Included by the top-level Makefile; also works alone, from the repo root:
#   make -f tests/unit/unit.mk unit-tests
# Each tests/unit/test_<name>.c is built with sanitizers into build/host/ and
# run; its PASS/FAIL lines go to build/test-results/unit-<name>.txt and its
# stderr (sanitizer reports) to unit-<name>.log. Every program runs even when
# an earlier one fails; the target fails at the end if any FAIL line exists.

UNIT_MK := $(lastword $(MAKEFILE_LIST))

HOST_CC      ?= gcc
UNIT_CFLAGS  ?= -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
    -fno-sanitize-recover=all -Ikernel
UNIT_BUILD   ?= build/host
UNIT_RESULTS ?= build/test-results
UNIT_TIMEOUT ?= 300

# Sanitizer failures exit with a status of their own, so a crash is never
# mistaken for a program that merely reported FAIL lines (status 1).
UNIT_SANITIZER_ENV := ASAN_OPTIONS=exitcode=86:detect_leaks=1 \
    UBSAN_OPTIONS=exitcode=87:print_stacktrace=1

# Built into every test program; kernel/string.c is not: the host C library
# provides what kstring.h declares.
UNIT_COMMON  := kernel/fmt.c kernel/diag.c kernel/strutil.c
UNIT_HEADERS := $(wildcard kernel/*.h kernel/ept/*.h tests/unit/*.h)

UNIT_TESTS := memmap buddy cmdline bootinfo acpi fmt slat guest_walk mmio_decode insn_length \
    elf_check manifest
UNIT_SRCS_memmap      := kernel/memmap.c
UNIT_SRCS_buddy       := kernel/buddy.c
UNIT_SRCS_cmdline     := kernel/cmdline.c
UNIT_SRCS_bootinfo    := kernel/bootinfo.c kernel/multiboot1.c kernel/multiboot2.c kernel/memmap.c
UNIT_SRCS_acpi        := kernel/acpi_tables.c kernel/acpi_madt.c kernel/acpi_timers.c
UNIT_SRCS_fmt         :=
UNIT_SRCS_slat        := kernel/ept/slat.c kernel/ept/slat_format.c
UNIT_SRCS_guest_walk  := kernel/guest_walk.c
UNIT_SRCS_mmio_decode := kernel/mmio_decode.c
UNIT_SRCS_insn_length := kernel/insn_length.c
UNIT_SRCS_manifest    := user/init/manifest.c user/init/manifest_keys.c user/lib/numparse.c \
    user/init/manifest.h user/init/manifest_internal.h user/lib/numparse.h
UNIT_SRCS_elf_check   := kernel/elf_check.c
# The VMM's pure parts (guest-loader/: multiboot loader, arguments, UART).
UNIT_TESTS            += vmm
UNIT_SRCS_vmm         := guest-loader/mb_image.c guest-loader/mb_info.c guest-loader/args.c \
    guest-loader/uart.c user/lib/numparse.c guest-loader/multiboot.h guest-loader/args.h \
    guest-loader/uart.h user/lib/numparse.h
# The VMM's platform interrupt controllers and timer (guest-loader/).
UNIT_TESTS              += vmm_irqchip
UNIT_SRCS_vmm_irqchip   := guest-loader/pic.c guest-loader/ioapic.c guest-loader/pit.c \
    guest-loader/pic.h guest-loader/ioapic.h guest-loader/pit.h guest-loader/irq.h
# The VMM's PC platform (guest-loader/): RTC, ACPI PM, fw_cfg, ACPI tables,
# which the test also reads back with the core's ACPI parser.
UNIT_TESTS                 += vmm_platform
UNIT_SRCS_vmm_platform     := guest-loader/rtc.c guest-loader/acpi_pm.c guest-loader/fw_cfg.c \
    guest-loader/acpi_tables.c kernel/acpi_tables.c kernel/acpi_madt.c kernel/acpi_timers.c \
    guest-loader/rtc.h guest-loader/acpi_pm.h guest-loader/fw_cfg.h guest-loader/acpi_tables.h \
    guest-loader/irq.h
# The core's virtual local APIC (kernel/apic/vlapic*.c).
UNIT_TESTS                 += vlapic
UNIT_SRCS_vlapic           := kernel/apic/vlapic.c kernel/apic/vlapic_route.c \
    kernel/apic/vlapic_timer.c kernel/apic/vlapic_regs.c kernel/apic/vlapic.h \
    kernel/apic/vlapic_internal.h
# The scheduler's run-queue lists (kernel/sched/run_queue.c).
UNIT_TESTS                 += run_queue
UNIT_SRCS_run_queue        := kernel/sched/run_queue.c kernel/sched/sched_internal.h \
    kernel/sched/sched.h kernel/sched/thread.h

UNIT_BINS := $(UNIT_TESTS:%=$(UNIT_BUILD)/test_%)

# rm first: a failed compile must not leave last run's binary to be run.
define UNIT_PROGRAM
$(UNIT_BUILD)/test_$(1): tests/unit/test_$(1).c $$(UNIT_SRCS_$(1)) $$(UNIT_COMMON) $$(UNIT_HEADERS) \
    $(UNIT_MK)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(HOST_CC) $$(UNIT_CFLAGS) $$(filter %.c,$$^) -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call UNIT_PROGRAM,$(t))))

.PHONY: unit-tests unit-build
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := unit-tests
endif

unit-build: $(UNIT_BINS)

# A program that did not build, crashed, timed out or exited non-zero
# without a FAIL line gets a FAIL line of its own (unit-<name>.build or
# unit-<name>.exit); one that printed no PASS line fails too.
unit-tests:
	@mkdir -p $(UNIT_RESULTS)
	-@$(MAKE) --no-print-directory -k -f $(UNIT_MK) HOST_CC='$(HOST_CC)' unit-build
	@for t in $(UNIT_TESTS); do \
	    out=$(UNIT_RESULTS)/unit-$$t.txt; log=$(UNIT_RESULTS)/unit-$$t.log; \
	    if [ ! -x $(UNIT_BUILD)/test_$$t ]; then \
	        echo "FAIL unit-$$t.build: test_$$t.c did not compile (see the output above)" > $$out; \
	        cat $$out; continue; \
	    fi; \
	    $(UNIT_SANITIZER_ENV) timeout $(UNIT_TIMEOUT) $(UNIT_BUILD)/test_$$t > $$out 2> $$log; \
	    rc=$$?; \
	    if [ $$rc -ne 0 ] && { [ $$rc -ne 1 ] || ! grep -q '^FAIL ' $$out; }; then \
	        echo "FAIL unit-$$t.exit: status $$rc" >> $$out; \
	    elif [ $$rc -eq 0 ] && ! grep -q '^PASS ' $$out; then \
	        echo "FAIL unit-$$t.exit: no test case ran" >> $$out; \
	    fi; \
	    grep '^FAIL ' $$out || true; \
	    if [ $$rc -ne 0 ]; then \
	        echo "--- $$log:"; \
	        grep -m1 -A14 -E 'ERROR: |runtime error' $$log || tail -n 5 $$log; \
	    fi; \
	done; \
	pass=$$(cat $(UNIT_TESTS:%=$(UNIT_RESULTS)/unit-%.txt) | grep -c '^PASS '); \
	fail=$$(cat $(UNIT_TESTS:%=$(UNIT_RESULTS)/unit-%.txt) | grep -c '^FAIL '); \
	echo "unit: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

