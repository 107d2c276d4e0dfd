/* Local APIC timer: the scheduler tick and the host timers (ktimer.c). The
 * hardware is programmed for whichever comes first. */
#include <stdbool.h>

#include "apic/lapic.h"
#include "apic/timer.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "percpu.h"
#include "sched/ktimer.h"
#include "sched/sched.h"
#include "printk.h"
#include "time.h"
#include "traps.h"

#define TIMER_DIVIDE_16 0x3 /* divide configuration register encoding */
#define CALIBRATE_US    10000

static bool use_deadline;
static uint64_t tsc_per_tick;
static uint32_t lapic_per_tick;
static uint64_t next_tick[MAX_CPUS]; /* TSC of each CPU's next tick */

/* Programs this CPU's timer for TSC value when (interrupts off). */
static void program(uint64_t when)
{
    if (use_deadline) {
        wrmsr(MSR_TSC_DEADLINE, when);
        return;
    }
    uint64_t now = rdtsc();
    uint64_t delta = when > now ? when - now : 0;
    if (delta > tsc_per_tick)
        delta = tsc_per_tick;
    /* delta <= tsc_per_tick and lapic_per_tick < 2^32: no overflow. */
    uint64_t count = delta * lapic_per_tick / (tsc_per_tick ? tsc_per_tick : 1);
    lapic_write(LAPIC_TIMER_INIT, count ? (uint32_t)count : 1);
}

void timer_reprogram(void)
{
    uint64_t flags = irq_save();
    uint64_t tick = next_tick[this_cpu()->index];
    uint64_t timer = ktimer_earliest();
    program(timer < tick ? timer : tick);
    irq_restore(flags);
}

static void timer_interrupt(struct trap_frame *f)
{
    (void)f;
    struct percpu *me = this_cpu();
    uint64_t now = rdtsc();
    if (now >= next_tick[me->index]) {
        me->ticks++;
        next_tick[me->index] += tsc_per_tick;
        if (next_tick[me->index] <= now) /* ticks were missed: do not catch up */
            next_tick[me->index] = now + tsc_per_tick;
        sched_tick();
    }
    uint64_t timer = ktimer_run_expired(now);
    uint64_t tick = next_tick[me->index];
    program(timer < tick ? timer : tick);
    lapic_eoi();
}

/* LAPIC timer counts per second at divide 16, measured against the TSC. */
static uint64_t calibrate_lapic_timer(void)
{
    lapic_write(LAPIC_TIMER_DIV, TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | VEC_LAPIC_TIMER);
    lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
    udelay(CALIBRATE_US);
    uint32_t elapsed = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
    lapic_write(LAPIC_TIMER_INIT, 0);
    return (uint64_t)elapsed * (1000000 / CALIBRATE_US);
}

static void timer_setup_boot(void)
{
    use_deadline = cpu_features.tsc_deadline;
    tsc_per_tick = tsc_hz / TIMER_HZ;
    interrupt_register(VEC_LAPIC_TIMER, timer_interrupt);
    if (use_deadline) {
        pr_info("timer: local APIC timer in TSC-deadline mode, %u Hz tick", TIMER_HZ);
        return;
    }
    uint64_t hz = calibrate_lapic_timer();
    if (hz < TIMER_HZ)
        hz = 1000000; /* a broken measurement: keep ticking, approximately */
    lapic_per_tick = (uint32_t)(hz / TIMER_HZ);
    pr_info("timer: local APIC timer one-shot, %llu kHz after divide-by-16, %u Hz tick",
            (unsigned long long)(hz / 1000), TIMER_HZ);
}

void timer_start_on_this_cpu(void)
{
    static bool calibrated;
    if (!calibrated) {
        timer_setup_boot();
        calibrated = true;
    }
    if (use_deadline) {
        lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_DEADLINE | VEC_LAPIC_TIMER);
        __asm__ volatile("mfence" ::: "memory"); /* SDM 11.5.4.1: order LVT write before MSR */
    } else {
        lapic_write(LAPIC_TIMER_DIV, TIMER_DIVIDE_16);
        lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONESHOT | VEC_LAPIC_TIMER);
    }
    next_tick[this_cpu()->index] = rdtsc() + tsc_per_tick;
    timer_reprogram();
}
