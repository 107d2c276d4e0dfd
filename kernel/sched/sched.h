/* The scheduler (DESIGN.md section 7): per-CPU run queues, round-robin;
 * a thread runs on the CPU it was placed on. */
#ifndef KEEL_SCHED_SCHED_H
#define KEEL_SCHED_SCHED_H

#include <stdbool.h>

#include "sched/thread.h"

/* Makes t runnable on its CPU (and wakes that CPU if it is idle). */
void sched_wake(struct thread *t);

/* Gives up the CPU: the current thread stays runnable unless it blocked or
 * died; the next runnable thread (or the idle thread) runs. Call with
 * interrupts enabled or disabled; returns with them as they were. */
void schedule(void);

/* Timer tick: asks for a switch at the next safe point. */
void sched_tick(void);

/* True when this CPU's current thread should yield (set by the tick). */
bool sched_should_yield(void);

/* True when threads wait in this CPU's run queue (the idle loop asks). */
bool sched_has_runnable(void);

#endif
