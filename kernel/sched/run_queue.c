/* Run-queue lists: one FIFO per priority (round-robin within it). The
 * caller holds the queue's lock. */
#include "sched/sched.h"
#include "sched/sched_internal.h"

struct run_queue sched_queues[MAX_CPUS];

void rq_enqueue(struct run_queue *q, struct thread *t, bool at_head)
{
    enum sched_priority p = thread_priority(t);
    if (at_head) {
        t->next_in_queue = q->head[p];
        q->head[p] = t;
        if (!q->tail[p])
            q->tail[p] = t;
    } else {
        t->next_in_queue = 0;
        if (q->tail[p])
            q->tail[p]->next_in_queue = t;
        else
            q->head[p] = t;
        q->tail[p] = t;
    }
    q->queued++;
}

static void unlink(struct run_queue *q, unsigned p, struct thread *prev, struct thread *t)
{
    if (prev)
        prev->next_in_queue = t->next_in_queue;
    else
        q->head[p] = t->next_in_queue;
    if (q->tail[p] == t)
        q->tail[p] = prev;
    t->next_in_queue = 0;
    q->queued--;
}

struct thread *rq_dequeue_highest(struct run_queue *q)
{
    for (int p = SCHED_PRIORITIES - 1; p >= 0; p--) {
        struct thread *t = q->head[p];
        if (t) {
            unlink(q, (unsigned)p, 0, t);
            return t;
        }
    }
    return 0;
}

struct thread *rq_steal_for(struct run_queue *q, unsigned cpu)
{
    for (int p = SCHED_PRIORITIES - 1; p >= 0; p--) {
        struct thread *prev = 0;
        for (struct thread *t = q->head[p]; t; prev = t, t = t->next_in_queue) {
            if (t->affinity & (1ull << cpu)) {
                unlink(q, (unsigned)p, prev, t);
                return t;
            }
        }
    }
    return 0;
}

int rq_best_priority(const struct run_queue *q)
{
    for (int p = SCHED_PRIORITIES - 1; p >= 0; p--) {
        if (q->head[p])
            return p;
    }
    return -1;
}
