/*
 * The VMM's clock (docs/vmm.md, "Time"): the device models count in
 * nanoseconds from the core's boot_tsc (keel_start_info), and the core's
 * exit deadline is in TSC ticks; tsc_khz (TSC ticks per millisecond) links
 * the two. Both conversions split the time into whole milliseconds and the
 * rest, so no product overflows 64 bits for centuries of uptime. Pure:
 * built for ring 3 and for host tests.
 */
#ifndef KEEL_VMM_CLOCK_H
#define KEEL_VMM_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_MS 1000000ull

/* Nanoseconds from boot_tsc to tsc, rounded down; 0 before boot_tsc. */
static inline uint64_t clock_tsc_to_ns(uint64_t tsc, uint64_t boot_tsc, uint64_t tsc_khz)
{
    if (tsc <= boot_tsc || tsc_khz == 0)
        return 0;
    uint64_t ticks = tsc - boot_tsc;
    return ticks / tsc_khz * CLOCK_NS_PER_MS + ticks % tsc_khz * CLOCK_NS_PER_MS / tsc_khz;
}

/* The first TSC value at which clock_tsc_to_ns() reaches ns (rounded up, so
 * a deadline at it never comes early); UINT64_MAX when that is beyond the
 * TSC's range. */
static inline uint64_t clock_ns_to_tsc(uint64_t ns, uint64_t boot_tsc, uint64_t tsc_khz)
{
    uint64_t ms = ns / CLOCK_NS_PER_MS, rest = ns % CLOCK_NS_PER_MS;
    if (tsc_khz == 0 || ms > (UINT64_MAX - boot_tsc) / tsc_khz)
        return UINT64_MAX;
    uint64_t ticks = ms * tsc_khz;
    uint64_t part = (rest * tsc_khz + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
    if (part > UINT64_MAX - boot_tsc - ticks)
        return UINT64_MAX;
    return boot_tsc + ticks + part;
}

#endif
