/*
 * The scheduler (DESIGN.md section 7): per-CPU run queues with fixed
 * priorities and round-robin time slices within a priority; preemption by
 * the tick and by wake-ups; blocking and waking across CPUs (a wake-up on
 * another CPU is an IPI); affinity; idle CPUs pull work from busy ones, and
 * the tick evens out queues that differ by two threads or more.
 *
 * Locking: each CPU's queue has its own lock, taken with interrupts off.
 * Only balancing and cross-CPU wake-ups take another CPU's lock, never two
 * at once.
 */
#ifndef KEEL_SCHED_SCHED_H
#define KEEL_SCHED_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/thread.h"

#define SCHED_SLICE_TICKS   1 /* round-robin slice, in timer ticks (TIMER_HZ) */
#define SCHED_BALANCE_TICKS 4 /* queue lengths are compared this often */
#define SCHED_DEMOTE_TICKS  2 /* a device-priority thread running this long is demoted */

/* Boot CPU, once: the kick IPI's handler. */
void sched_init(void);

/* Makes a blocked (or new) thread runnable on its CPU, preempting what runs
 * there when t ranks as high or higher (an IPI when that CPU is another). */
void sched_wake(struct thread *t);

/* Gives up the CPU: the current thread stays runnable unless it blocked or
 * died; the highest-priority runnable thread (or the idle thread) runs.
 * Call with interrupts enabled or disabled; returns with them as they were. */
void schedule(void);

/* Blocks the calling thread unless ready(arg) holds; ready is evaluated
 * under the queue lock, so a waker that makes it true and then calls
 * sched_wake cannot be missed. Returns when woken (or at once). */
void sched_block_unless(bool (*ready)(void *arg), void *arg);

/* Called by the new thread right after a context switch (thread_main, and
 * schedule itself): finishes with the thread switched away from. */
void sched_finish_switch(void);

/* Timer tick: slice accounting and balancing. */
void sched_tick(void);

/* True when this CPU's current thread should yield. */
bool sched_should_yield(void);

/* True when threads wait in this CPU's run queue (the idle loop asks). */
bool sched_has_runnable(void);

/* The calling thread runs a vCPU from now on: SCHED_PRIO_VCPU. Yields at
 * the next check if that lets a waiting thread outrank it. */
void sched_become_vcpu_thread(void);

/* Restricts the calling thread to the CPUs of mask (online ones only; 0:
 * every CPU); moves it at once if it runs elsewhere. Returns 0, or -1 when
 * mask names no online CPU. */
int sched_set_affinity(uint64_t mask);

/* The online CPU in mask (0: any) with the fewest runnable threads. */
unsigned sched_pick_cpu(uint64_t mask);

/* Mask of the online CPUs. */
uint64_t sched_online_mask(void);

/* Sends an interrupt to cpu so that guest code running there exits. */
void sched_kick_cpu(unsigned cpu);

/* Idle balancing: moves one runnable thread from the busiest other CPU here
 * when this one has none. Returns true when it did. */
bool sched_pull_work(bool only_if_idle);

#endif
