/* The run queues, shared by sched.c and balance.c only. */
#ifndef KEEL_SCHED_INTERNAL_H
#define KEEL_SCHED_INTERNAL_H

#include "percpu.h"
#include "sched/thread.h"
#include "spinlock.h"

struct run_queue {
    struct spinlock lock;
    struct thread *head[SCHED_PRIORITIES], *tail[SCHED_PRIORITIES];
    unsigned queued; /* threads in the lists above */
    bool busy;       /* a thread other than idle runs */
    volatile bool need_resched;
    unsigned slice_ticks; /* ticks the current thread has run in its slice */
    unsigned busy_ticks;  /* ticks it has run since it last started (blocking ends that) */
    unsigned balance_ticks;
};

extern struct run_queue sched_queues[MAX_CPUS];

static inline enum sched_priority thread_priority(const struct thread *t)
{
    return t->runs_vcpu || t->demoted ? SCHED_PRIO_VCPU : t->base_priority;
}

/* List operations; the caller holds q->lock. */
void rq_enqueue(struct run_queue *q, struct thread *t, bool at_head);
struct thread *rq_dequeue_highest(struct run_queue *q);
/* The first queued thread that may run on cpu, removed; NULL if none. */
struct thread *rq_steal_for(struct run_queue *q, unsigned cpu);
/* The priority of the best queued thread, or -1. */
int rq_best_priority(const struct run_queue *q);

#endif
