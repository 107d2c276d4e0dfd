/* Time in the core: the TSC is the clock, its frequency found at boot. */
#ifndef KEEL_TIME_H
#define KEEL_TIME_H

#include <stdint.h>

extern uint64_t tsc_hz; /* 0 until time_init() */
extern uint64_t tsc_at_boot;

/* Nanoseconds since the TSC was first read at boot; 0 before calibration. */
uint64_t uptime_ns(void);

/* Records the boot TSC; called first thing. */
void time_early_init(void);

/* Finds the TSC frequency: CPUID 0x15/0x16, else calibrated against the ACPI
 * PM timer, the HPET or the PIT (in that order of preference). */
void time_init(void);

/* Busy-waits for at least us microseconds (needs time_init). */
void udelay(uint64_t us);

#endif
