/*
 * Picking, switching, blocking and waking (sched.h). A thread switched away
 * from is put back in a queue only by sched_finish_switch, once its CPU
 * runs on another stack: no other CPU can start it while its stack is in
 * use, so migrating and waking need no further handshake.
 */
#include "apic/lapic.h"
#include "cpu.h"
#include "memory.h"
#include "partition.h"
#include "percpu.h"
#include "sched/sched.h"
#include "sched/sched_internal.h"
#include "traps.h"

static int current_priority(unsigned cpu)
{
    struct percpu *c = cpu_table[cpu];
    if (!c || !c->current || c->current == c->idle)
        return -1;
    return (int)thread_priority(c->current);
}

void sched_kick_cpu(unsigned cpu)
{
    struct percpu *target = cpu < MAX_CPUS ? cpu_table[cpu] : 0;
    if (target && target != this_cpu())
        lapic_send_ipi(target->apic_id, ICR_FIXED | VEC_KICK);
}

/* Locks the queue of the CPU t belongs to (t->cpu may change until then). */
static struct run_queue *lock_queue_of(struct thread *t, unsigned *cpu)
{
    for (;;) {
        unsigned c = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        struct run_queue *q = &sched_queues[c];
        spin_lock(&q->lock);
        if (t->cpu == c) {
            *cpu = c;
            return q;
        }
        spin_unlock(&q->lock);
    }
}

/* Where a waking thread goes: its own CPU unless that one is busy and an
 * allowed CPU idles (the thread is neither queued nor running). */
static unsigned wake_target(const struct thread *t, unsigned cpu)
{
    if (!sched_queues[cpu].busy && !sched_queues[cpu].queued)
        return cpu;
    unsigned best = sched_pick_cpu(t->affinity);
    return (sched_queues[best].busy || sched_queues[best].queued) ? cpu : best;
}

/* A woken thread preempts one of the same priority (it has slept, the
 * other has run: wake-up preemption keeps timer-driven guests responsive
 * beside CPU-bound ones); a thread put back after its slice only preempts
 * a lower one. */
static void enqueue_and_maybe_preempt(struct thread *t, unsigned cpu, bool woken)
{
    struct run_queue *q = &sched_queues[cpu];
    spin_lock(&q->lock);
    t->cpu = cpu;
    rq_enqueue(q, t, false);
    int mine = (int)thread_priority(t), theirs = current_priority(cpu);
    bool preempt = woken ? mine >= theirs : mine > theirs;
    if (preempt)
        q->need_resched = true;
    spin_unlock(&q->lock);
    if (preempt)
        sched_kick_cpu(cpu);
}

void sched_wake(struct thread *t)
{
    uint64_t flags = irq_save();
    unsigned cpu;
    struct run_queue *q = lock_queue_of(t, &cpu);
    bool place = false;
    if (t->state == THREAD_BLOCKED) {
        t->state = THREAD_RUNNABLE;
        place = !t->on_cpu; /* else schedule or sched_finish_switch queues it */
        t->woken_on_cpu = t->on_cpu;
    }
    spin_unlock(&q->lock);
    if (place)
        enqueue_and_maybe_preempt(t, wake_target(t, cpu), true);
    irq_restore(flags);
}

void sched_finish_switch(void)
{
    struct percpu *me = this_cpu();
    struct thread *prev = me->sched_prev;
    me->sched_prev = 0;
    if (!prev || prev == me->idle)
        return;
    if (prev->state == THREAD_DEAD) {
        thread_free(prev); /* this CPU is off its stack now */
        return;
    }
    unsigned cpu;
    struct run_queue *q = lock_queue_of(prev, &cpu);
    prev->on_cpu = false;
    bool requeue = prev->state == THREAD_RUNNABLE, woken = prev->woken_on_cpu;
    prev->woken_on_cpu = false;
    spin_unlock(&q->lock);
    if (requeue)
        enqueue_and_maybe_preempt(prev, cpu, woken);
}

/* May prev keep (or get back) this CPU? */
static bool can_stay(const struct percpu *me, const struct thread *prev)
{
    return prev != me->idle && (prev->state == THREAD_RUNNING || prev->state == THREAD_RUNNABLE) &&
           (prev->affinity & (1ull << me->index));
}

void schedule(void)
{
    uint64_t flags = irq_save();
    struct percpu *me = this_cpu();
    struct run_queue *q = &sched_queues[me->index];
    struct thread *prev = me->current;
    if (prev != me->idle && !(prev->affinity & (1ull << me->index)))
        prev->cpu = sched_pick_cpu(prev->affinity); /* its affinity left this CPU out */
    spin_lock(&q->lock);
    bool stay = can_stay(me, prev); /* under the lock: a wake-up may just have come */
    if (stay)
        prev->woken_on_cpu = false;
    q->need_resched = false;
    struct thread *next = rq_dequeue_highest(q);
    if (stay && next && thread_priority(next) < thread_priority(prev)) {
        rq_enqueue(q, next, true); /* outranked: prev goes on */
        next = 0;
    }
    if (!next)
        next = stay ? prev : me->idle;
    q->slice_ticks = 0;
    if (next == prev) {
        if (prev != me->idle)
            prev->state = THREAD_RUNNING;
        spin_unlock(&q->lock);
        irq_restore(flags);
        return;
    }
    if (prev->state == THREAD_RUNNING)
        prev->state = THREAD_RUNNABLE;
    q->busy_ticks = 0;
    next->state = THREAD_RUNNING;
    next->on_cpu = true;
    next->cpu = me->index;
    q->busy = next != me->idle;
    me->current = next;
    spin_unlock(&q->lock);

    uint64_t root = next->partition ? next->partition->root : kernel_root;
    if (root && read_cr3() != root)
        write_cr3(root); /* the core's half is the same in every address space */
    me->kernel_rsp = next->kstack_top;
    me->tss.rsp[0] = next->kstack_top;
    me->sched_prev = prev;
    switch_context(&prev->saved_rsp, next->saved_rsp);
    sched_finish_switch();
    irq_restore(flags);
}

void sched_block_unless(bool (*ready)(void *arg), void *arg)
{
    uint64_t flags = irq_save();
    struct percpu *me = this_cpu();
    struct thread *t = me->current;
    struct run_queue *q = &sched_queues[me->index];
    if (t == me->idle) { /* the boot context (the self-test's VMs) cannot block */
        irq_restore(flags);
        cpu_relax();
        return;
    }
    spin_lock(&q->lock);
    bool go_on = ready(arg);
    if (!go_on) {
        t->state = THREAD_BLOCKED;
        t->demoted = false;
    }
    spin_unlock(&q->lock);
    if (!go_on)
        schedule();
    irq_restore(flags);
}

void sched_tick(void)
{
    struct percpu *me = this_cpu();
    struct run_queue *q = &sched_queues[me->index];
    if (++q->balance_ticks >= SCHED_BALANCE_TICKS) {
        q->balance_ticks = 0;
        if (sched_pull_work(false))
            q->need_resched = true;
    }
    if (!q->busy) {
        if (q->queued)
            q->need_resched = true;
        return;
    }
    if (++q->slice_ticks >= SCHED_SLICE_TICKS) {
        q->slice_ticks = 0;
        struct thread *t = me->current;
        if (++q->busy_ticks >= SCHED_DEMOTE_TICKS && thread_priority(t) > SCHED_PRIO_VCPU &&
            t->partition)
            t->demoted = true; /* a whole slice without blocking: see thread.h */
        if (rq_best_priority(q) >= (int)thread_priority(t))
            q->need_resched = true; /* round robin within the priority */
    }
}

bool sched_should_yield(void)
{
    return sched_queues[this_cpu()->index].need_resched;
}

bool sched_has_runnable(void)
{
    return sched_queues[this_cpu()->index].queued != 0;
}

void sched_become_vcpu_thread(void)
{
    struct percpu *me = this_cpu();
    struct thread *t = me->current;
    if (t->runs_vcpu || t == me->idle)
        return;
    uint64_t flags = irq_save();
    t->runs_vcpu = true;
    if (rq_best_priority(&sched_queues[me->index]) > (int)SCHED_PRIO_VCPU)
        sched_queues[me->index].need_resched = true;
    irq_restore(flags);
}

uint64_t sched_online_mask(void)
{
    uint64_t mask = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        if (cpu_table[c] && cpu_table[c]->online_word)
            mask |= 1ull << c;
    }
    return mask;
}

unsigned sched_pick_cpu(uint64_t mask)
{
    uint64_t online = sched_online_mask();
    mask = mask ? mask & online : online;
    unsigned best = this_cpu()->index, best_load = ~0u;
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        if (!(mask & (1ull << c)))
            continue;
        unsigned load = sched_queues[c].queued + (sched_queues[c].busy ? 1 : 0);
        if (load < best_load) {
            best = c;
            best_load = load;
        }
    }
    return best;
}

int sched_set_affinity(uint64_t mask)
{
    uint64_t online = sched_online_mask();
    mask = mask ? mask & online : online;
    if (!mask)
        return -1;
    struct percpu *me = this_cpu();
    me->current->affinity = mask;
    if (!(mask & (1ull << me->index)))
        schedule(); /* moves it to an allowed CPU */
    return 0;
}

static void kick_interrupt(struct trap_frame *f)
{
    (void)f;
    lapic_eoi(); /* the interrupt itself did the work: a guest exit or a wake from HLT */
}

void sched_init(void)
{
    interrupt_register(VEC_KICK, kick_interrupt);
}
