/* Cross-CPU calls by IPI: one call slot per target CPU, one sender at a time. */
#include "apic/lapic.h"
#include "cpu.h"
#include "panic.h"
#include "percpu.h"
#include "sched/sched.h"
#include "smp.h"
#include "spinlock.h"
#include "time.h"
#include "traps.h"

static struct spinlock call_lock = SPINLOCK_INIT;

/* Runs the call pending for this CPU, if any. Returns true if one ran. */
static bool run_pending_call(void)
{
    struct cross_call *c = &this_cpu()->call;
    void (*fn)(void *) = c->fn;
    if (!fn)
        return false;
    void *arg = c->arg;
    c->fn = 0;
    fn(arg);
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
    return true;
}

static void cross_call_interrupt(struct trap_frame *f)
{
    (void)f;
    run_pending_call();
    lapic_eoi();
}

static int cross_call_nmi(struct trap_frame *f)
{
    (void)f;
    return run_pending_call();
}

bool wait_for_flag(volatile const uint32_t *flag, uint64_t deadline_ns)
{
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
        if (uptime_ns() > deadline_ns)
            return false;
        cpu_relax();
    }
    return true;
}

static bool wait_done(volatile uint32_t *done, uint64_t timeout_us)
{
    return wait_for_flag(done, uptime_ns() + timeout_us * 1000);
}

unsigned smp_run_everywhere(void (*fn)(void *), void *arg, uint64_t timeout_us)
{
    unsigned silent = 0, me = this_cpu()->index;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        struct percpu *p = cpu_table[i];
        if (!p || !p->online_word)
            continue;
        if (i == me)
            fn(arg);
        else if (!smp_cross_call(i, fn, arg, false, timeout_us))
            silent++;
    }
    return silent;
}

bool smp_cross_call(unsigned cpu, void (*fn)(void *), void *arg, bool nmi, uint64_t timeout_us)
{
    struct percpu *target = cpu < MAX_CPUS ? cpu_table[cpu] : 0;
    if (!target || !target->online_word)
        return false;
    /* Serve calls aimed at us while waiting for the lock: two CPUs calling
     * each other must not deadlock. */
    while (!spin_trylock(&call_lock)) {
        run_pending_call();
        cpu_relax();
    }
    target->call.done = 0;
    target->call.arg = arg;
    __atomic_store_n(&target->call.fn, fn, __ATOMIC_RELEASE);
    lapic_send_ipi(target->apic_id, nmi ? ICR_NMI : (ICR_FIXED | VEC_CROSS_CALL));
    bool ok = wait_done(&target->call.done, timeout_us);
    if (!ok)
        target->call.fn = 0;
    spin_unlock(&call_lock);
    return ok;
}

static void stop_this_cpu(void *arg)
{
    (void)arg;
    struct percpu *me = this_cpu();
    me->online_word = 0;
    __atomic_store_n(&me->call.done, 1, __ATOMIC_RELEASE); /* we never return to say so */
    cpu_stop();
}

void smp_stop_others(void)
{
    /* No lock: the panicking CPU may have interrupted a holder. */
    unsigned me = this_cpu()->index;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        struct percpu *p = cpu_table[i];
        if (!p || i == me || !p->online_word)
            continue;
        p->call.done = 0;
        p->call.arg = 0;
        p->call.fn = stop_this_cpu;
        lapic_send_ipi(p->apic_id, ICR_NMI);
        wait_done(&p->call.done, 100000);
    }
}

/* A CPU that takes an NMI while another panics stops quietly. */
static int panic_nmi(struct trap_frame *f)
{
    (void)f;
    if (!panic_in_progress())
        return 0;
    stop_this_cpu(0);
    return 1;
}

void crosscall_init(void)
{
    interrupt_register(VEC_CROSS_CALL, cross_call_interrupt);
    nmi_register(cross_call_nmi);
    nmi_register(panic_nmi);
    panic_set_stop_others(smp_stop_others);
}

bool smp_post_work(unsigned cpu, void (*fn)(void *), void *arg)
{
    struct percpu *target = cpu < MAX_CPUS ? cpu_table[cpu] : 0;
    if (!target || !target->online_word || target->work.fn)
        return false;
    target->work.arg = arg;
    __atomic_store_n(&target->work.fn, fn, __ATOMIC_RELEASE);
    if (target != this_cpu())
        lapic_send_ipi(target->apic_id, ICR_FIXED | VEC_CROSS_CALL); /* wakes its HLT */
    return true;
}

void cpu_idle_loop(void)
{
    struct percpu *me = this_cpu();
    for (;;) {
        irq_disable();
        void (*fn)(void *) = __atomic_load_n(&me->work.fn, __ATOMIC_ACQUIRE);
        if (!fn && (sched_has_runnable() || sched_pull_work(true))) {
            irq_enable();
            schedule();
            continue;
        }
        if (!fn) {
            /* STI's shadow covers HLT: a wake-up IPI cannot slip in between. */
            __asm__ volatile("sti; hlt" ::: "memory");
            continue;
        }
        irq_enable();
        fn(me->work.arg);
        __atomic_store_n(&me->work.fn, 0, __ATOMIC_RELEASE);
    }
}
