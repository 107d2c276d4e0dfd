/* Per-CPU FIFO run queues; the current thread goes to the tail when it
 * yields. Queues are touched with local interrupts off and under their lock
 * (another CPU may wake a thread into them). */
#include "apic/lapic.h"
#include "cpu.h"
#include "memory.h"
#include "partition.h"
#include "percpu.h"
#include "sched/sched.h"
#include "spinlock.h"
#include "traps.h"

struct run_queue {
    struct spinlock lock;
    struct thread *head, *tail;
    struct thread *dead; /* ended threads whose stacks were in use until the switch */
    volatile bool need_resched;
};

static struct run_queue queues[MAX_CPUS];

static void enqueue(struct run_queue *q, struct thread *t)
{
    t->next_in_queue = 0;
    if (q->tail)
        q->tail->next_in_queue = t;
    else
        q->head = t;
    q->tail = t;
}

static struct thread *dequeue(struct run_queue *q)
{
    struct thread *t = q->head;
    if (t) {
        q->head = t->next_in_queue;
        if (!q->head)
            q->tail = 0;
    }
    return t;
}

void sched_wake(struct thread *t)
{
    struct run_queue *q = &queues[t->cpu];
    uint64_t flags = spin_lock_irqsave(&q->lock);
    if (t->state == THREAD_BLOCKED || t->state == THREAD_RUNNABLE) {
        bool queued = t->state == THREAD_RUNNABLE && t->next_in_queue;
        t->state = THREAD_RUNNABLE;
        if (!queued && q->tail != t && q->head != t)
            enqueue(q, t);
    }
    spin_unlock_irqrestore(&q->lock, flags);
    struct percpu *target = cpu_table[t->cpu];
    if (target && target != this_cpu() && target->current == target->idle)
        lapic_send_ipi(target->apic_id, ICR_FIXED | VEC_CROSS_CALL); /* wake its HLT */
}

/* Frees the threads that ended on this CPU: we run on another stack now. */
static void reap_dead_threads(struct run_queue *q)
{
    spin_lock(&q->lock);
    struct thread *dead = q->dead;
    q->dead = 0;
    spin_unlock(&q->lock);
    while (dead) {
        struct thread *next = dead->next_in_queue;
        thread_free(dead);
        dead = next;
    }
}

void schedule(void)
{
    uint64_t flags = irq_save();
    struct percpu *me = this_cpu();
    struct run_queue *q = &queues[me->index];
    struct thread *prev = me->current;
    spin_lock(&q->lock);
    q->need_resched = false;
    if (prev != me->idle && prev->state == THREAD_RUNNING) {
        prev->state = THREAD_RUNNABLE;
        enqueue(q, prev);
    } else if (prev->state == THREAD_DEAD) {
        prev->next_in_queue = q->dead; /* freed once we are off its stack */
        q->dead = prev;
    }
    struct thread *next = dequeue(q);
    if (!next)
        next = me->idle;
    spin_unlock(&q->lock);
    if (next != prev) {
        uint64_t root = next->partition ? next->partition->root : kernel_root;
        if (root && read_cr3() != root)
            write_cr3(root); /* the core's half is the same in every address space */
        next->state = THREAD_RUNNING;
        me->current = next;
        me->kernel_rsp = next->kstack_top;
        me->tss.rsp[0] = next->kstack_top;
        switch_context(&prev->saved_rsp, next->saved_rsp);
    } else if (next != me->idle) {
        next->state = THREAD_RUNNING;
    }
    reap_dead_threads(&queues[this_cpu()->index]);
    irq_restore(flags);
}

void sched_tick(void)
{
    struct percpu *me = this_cpu();
    if (me->current && me->current != me->idle)
        queues[me->index].need_resched = true;
}

bool sched_should_yield(void)
{
    return queues[this_cpu()->index].need_resched;
}

bool sched_has_runnable(void)
{
    return queues[this_cpu()->index].head != 0;
}
