/* Host timers: a deadline-sorted list per CPU under its own lock. */
#include "apic/timer.h"
#include "cpu.h"
#include "percpu.h"
#include "sched/ktimer.h"
#include "spinlock.h"

struct timer_list {
    struct spinlock lock;
    struct ktimer *first;
};

static struct timer_list lists[MAX_CPUS];

static void unlink_locked(struct timer_list *l, struct ktimer *t)
{
    for (struct ktimer **p = &l->first; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = 0;
    t->cpu = -1;
}

/* Takes t off the list it is on; the caller has interrupts off. */
static void detach(struct ktimer *t)
{
    for (;;) {
        int cpu = t->cpu;
        if (cpu < 0)
            return;
        struct timer_list *l = &lists[cpu];
        spin_lock(&l->lock);
        bool same = t->cpu == cpu;
        if (same)
            unlink_locked(l, t);
        spin_unlock(&l->lock);
        if (same)
            return;
    }
}

void ktimer_arm(struct ktimer *t, uint64_t deadline)
{
    uint64_t flags = irq_save();
    detach(t);
    unsigned me = this_cpu()->index;
    struct timer_list *l = &lists[me];
    spin_lock(&l->lock);
    t->deadline = deadline;
    struct ktimer **p = &l->first;
    while (*p && (*p)->deadline <= deadline)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->cpu = (int)me;
    bool earliest = l->first == t;
    spin_unlock(&l->lock);
    if (earliest)
        timer_reprogram();
    irq_restore(flags);
}

void ktimer_cancel(struct ktimer *t)
{
    uint64_t flags = irq_save();
    detach(t);
    irq_restore(flags);
    while (__atomic_load_n(&t->firing, __ATOMIC_ACQUIRE))
        cpu_relax();
}

uint64_t ktimer_run_expired(uint64_t now)
{
    struct timer_list *l = &lists[this_cpu()->index];
    for (;;) {
        spin_lock(&l->lock);
        struct ktimer *t = l->first;
        if (!t || t->deadline > now) {
            uint64_t next = t ? t->deadline : UINT64_MAX;
            spin_unlock(&l->lock);
            return next;
        }
        unlink_locked(l, t);
        t->firing = true;
        spin_unlock(&l->lock);
        t->fn(t);
        __atomic_store_n(&t->firing, false, __ATOMIC_RELEASE);
    }
}

uint64_t ktimer_earliest(void)
{
    struct timer_list *l = &lists[this_cpu()->index];
    uint64_t flags = spin_lock_irqsave(&l->lock);
    uint64_t next = l->first ? l->first->deadline : UINT64_MAX;
    spin_unlock_irqrestore(&l->lock, flags);
    return next;
}
