/* Load balancing: an idle CPU, and every CPU every SCHED_BALANCE_TICKS
 * ticks, takes one queued thread from the most loaded CPU when that one
 * has at least two more runnable threads (one more, for an idle CPU).
 * Pinned threads move only within their affinity. */
#include "percpu.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"

static unsigned load_of(unsigned cpu)
{
    const struct run_queue *q = &sched_queues[cpu];
    return q->queued + (q->busy ? 1 : 0);
}

bool sched_pull_work(bool only_if_idle)
{
    unsigned me = this_cpu()->index;
    unsigned my_load = load_of(me);
    if (only_if_idle && my_load)
        return false;
    unsigned busiest = me, most = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        if (c == me || !cpu_table[c] || !cpu_table[c]->online_word)
            continue;
        unsigned load = load_of(c);
        if (sched_queues[c].queued && load > most) {
            busiest = c;
            most = load;
        }
    }
    unsigned margin = my_load == 0 ? 1 : 2;
    if (busiest == me || most < my_load + margin)
        return false;
    uint64_t flags = irq_save();
    struct run_queue *from = &sched_queues[busiest];
    spin_lock(&from->lock);
    struct thread *t = rq_steal_for(from, me);
    if (t)
        t->cpu = me; /* RUNNABLE and in no queue until enqueued below */
    spin_unlock(&from->lock);
    if (t) {
        struct run_queue *q = &sched_queues[me];
        spin_lock(&q->lock);
        rq_enqueue(q, t, false);
        spin_unlock(&q->lock);
    }
    irq_restore(flags);
    return t != 0;
}
