/*
 * Diagnostics collected by pure parsers (command line, multiboot, memory map,
 * ACPI) before the console exists or without depending on it. The core prints
 * them once the console is up; host tests inspect them.
 */
#ifndef KEEL_DIAG_H
#define KEEL_DIAG_H

#define DIAG_MAX 24
#define DIAG_LEN 128

struct diag {
    unsigned count; /* every diagnostic added, even those not stored */
    char msg[DIAG_MAX][DIAG_LEN];
};

/* Adds one formatted message; beyond DIAG_MAX only the count grows. */
void diag_add(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
