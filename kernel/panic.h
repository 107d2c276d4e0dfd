/* Fatal errors in the core: report, stop every CPU, halt. */
#ifndef KEEL_PANIC_H
#define KEEL_PANIC_H

#include <stdbool.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

bool panic_in_progress(void);

/* Installed once cross calls work: stops all other CPUs (by NMI). */
void panic_set_stop_others(void (*stop_others)(void));

#endif
