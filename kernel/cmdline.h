/*
 * The core's command line (from the boot loader): whitespace-separated words,
 * key=value or bare flags. Known options:
 *   console=com1|com2|none   where the console goes (default com1)
 *   loglevel=0..7            messages above this level are not printed (default 6)
 *   keel.test=a,b,...        test-only switches (see enum keel_test_flag)
 * A first word without '=' that looks like a path (contains '/' or ends in
 * ".elf") is the image name QEMU and some loaders prepend, and is skipped.
 * Anything else unknown, malformed or non-printable is reported in warnings and
 * otherwise ignored: a bad command line never stops the boot.
 */
#ifndef KEEL_CMDLINE_H
#define KEEL_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define CMDLINE_MAX 1024 /* longer input is truncated, with a warning */

enum console_port { CONSOLE_COM1 = 0, CONSOLE_COM2 = 1, CONSOLE_NONE = 2 };

/* Test-only switches, keel.test=<name>[,<name>...]. */
enum keel_test_flag {
    KEEL_TEST_FAULT = 1u << 0,             /* "fault": a deliberate page fault in the core */
    KEEL_TEST_ACPI_BAD_CHECKSUM = 1u << 1, /* "acpi-bad-checksum": MADT copy with a bad checksum */
    KEEL_TEST_ACPI_TRUNCATED = 1u << 2,    /* "acpi-truncated": FADT copy cut short */
    KEEL_TEST_MADT_EXTRA_CPUS = 1u << 3, /* "madt-extra-cpus": MADT lists absent and excess CPUs */
    KEEL_TEST_BAD_MEMMAP = 1u << 4,      /* "bad-memmap": overlapping and unaligned map entries */
    KEEL_TEST_SELFTEST = 1u << 5, /* "selftest": run the test guests on every CPU, power off */
    KEEL_TEST_BENCH = 1u << 6,    /* "bench": measure exit round trips, power off */
};
/* Every switch above (for checks of parsed flags). */
#define KEEL_TEST_ALL_FLAGS ((1u << 7) - 1)

#define LOGLEVEL_DEFAULT 6

struct cmdline_options {
    enum console_port console;
    int loglevel;        /* 0 (emergency) .. 7 (debug) */
    uint32_t test_flags; /* enum keel_test_flag bits */
    struct diag warnings;
};

/* Parses at most max_len bytes of text (stops at NUL). Never fails: options
 * not understood keep their defaults and are reported in out->warnings. */
void cmdline_parse(const char *text, size_t max_len, struct cmdline_options *out);

#endif
