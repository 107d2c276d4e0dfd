/* Host timers (DESIGN.md section 7): one-shot callbacks at a TSC deadline,
 * kept per CPU and driven by that CPU's local APIC timer, which is
 * programmed for the earlier of the next tick and the first timer. The
 * virtual LAPIC timers and the VMM's exit deadlines are such timers. */
#ifndef KEEL_SCHED_KTIMER_H
#define KEEL_SCHED_KTIMER_H

#include <stdbool.h>
#include <stdint.h>

struct ktimer {
    uint64_t deadline;            /* TSC */
    void (*fn)(struct ktimer *t); /* runs in the timer interrupt, interrupts off */
    struct ktimer *next;
    volatile int cpu;     /* the CPU whose list holds it, -1 when not armed */
    volatile bool firing; /* fn runs now */
};

static inline void ktimer_init(struct ktimer *t, void (*fn)(struct ktimer *))
{
    t->fn = fn;
    t->next = 0;
    t->cpu = -1;
    t->firing = false;
}

/* (Re)arms t on the calling CPU for deadline (TSC); it fires once. */
void ktimer_arm(struct ktimer *t, uint64_t deadline);

/* Disarms t wherever it is armed; when it returns, t's callback is not
 * running on any CPU (so t may be freed). Not from t's own callback. */
void ktimer_cancel(struct ktimer *t);

/* Timer interrupt: runs this CPU's timers due at now; returns the earliest
 * deadline still armed here (UINT64_MAX: none). */
uint64_t ktimer_run_expired(uint64_t now);

/* The earliest deadline armed on this CPU (UINT64_MAX: none). */
uint64_t ktimer_earliest(void);

#endif
