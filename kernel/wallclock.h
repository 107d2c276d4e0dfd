/* The host's time of day, read once at boot from the CMOS real-time clock
 * and handed to partitions (keel_start_info.wallclock), whose VMMs start
 * their guests' clocks from it. */
#ifndef KEEL_WALLCLOCK_H
#define KEEL_WALLCLOCK_H

#include <stdint.h>

/* Reads the CMOS clock (boot CPU, once). */
void wallclock_init(void);

/* Unix seconds at wallclock_tsc, or 0 when the clock could not be read. */
extern uint64_t wallclock_seconds;
extern uint64_t wallclock_tsc;

#endif
