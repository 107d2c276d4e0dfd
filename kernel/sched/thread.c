/* Thread creation, start and exit. */
#include "cpu.h"
#include "heap.h"
#include "kstack.h"
#include "kstring.h"
#include "percpu.h"
#include "sched/sched.h"
#include "sched/thread.h"

extern char thread_start[];

/* The frame switch_context pops for a thread that never ran: R15..RBP, then
 * the return address; R12 carries the thread (see switch.asm). */
struct initial_frame {
    uint64_t r15, r14, r13, r12, rbx, rbp;
    uint64_t ret;
};

struct thread *thread_create(const char *name, void (*entry)(void *), void *arg, unsigned cpu)
{
    struct thread *t = kzalloc(sizeof(*t));
    uint64_t stack_top = t ? kstack_alloc() : 0;
    if (!stack_top) {
        kfree(t);
        return 0;
    }
    t->kstack_top = stack_top;
    t->entry = entry;
    t->arg = arg;
    t->cpu = cpu;
    t->state = THREAD_BLOCKED; /* until sched_wake */
    t->base_priority = SCHED_PRIO_KERNEL;
    t->affinity = ~0ull;
    kstrlcpy(t->name, name, sizeof(t->name));
    /* At thread_main's entry RSP must be 8 mod 16 (System V ABI 3.2.2). */
    struct initial_frame *f = (struct initial_frame *)(stack_top - sizeof(*f) - 16);
    *f = (struct initial_frame){.r12 = (uint64_t)t, .ret = (uint64_t)thread_start};
    t->saved_rsp = (uint64_t)f;
    return t;
}

/* Called from thread_start with interrupts off (schedule() switched here). */
void thread_main(struct thread *t)
{
    sched_finish_switch();
    irq_enable();
    t->entry(t->arg);
    thread_exit(0);
}

void thread_exit(int status)
{
    irq_disable();
    struct thread *t = thread_current();
    t->exit_status = status;
    t->state = THREAD_DEAD;
    schedule();
    cpu_stop(); /* not reached: a dead thread is never picked again */
}

void thread_free(struct thread *t)
{
    kstack_free(t->kstack_top);
    kfree(t);
}

struct thread *thread_current(void)
{
    return this_cpu()->current;
}

void thread_adopt_idle(void)
{
    struct percpu *me = this_cpu();
    static struct thread boot_idle[MAX_CPUS];
    struct thread *t = &boot_idle[me->index];
    t->state = THREAD_RUNNING;
    t->on_cpu = true;
    t->affinity = 1ull << me->index;
    t->cpu = me->index;
    t->kstack_top = me->stack_top;
    kstrlcpy(t->name, "idle", sizeof(t->name));
    me->idle = t;
    me->current = t;
    me->kernel_rsp = me->stack_top;
}
