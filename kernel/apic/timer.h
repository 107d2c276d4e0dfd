/* Each CPU's tick from its local APIC timer: TSC-deadline mode where the CPU
 * has it (SDM Vol. 3A 11.5.4.1), else one-shot mode re-armed on each tick. */
#ifndef KEEL_APIC_TIMER_H
#define KEEL_APIC_TIMER_H

#define TIMER_HZ 100

/* Calibrates (boot CPU, first call) and starts the tick on the calling CPU. */
void timer_start_on_this_cpu(void);

/* Programs this CPU's timer for the earlier of its next tick and its first
 * host timer (after a ktimer was armed). */
void timer_reprogram(void);

#endif
