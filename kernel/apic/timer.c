/* Local APIC timer tick. */
#include <stdbool.h>

#include "apic/lapic.h"
#include "apic/timer.h"
#include "cpu.h"
#include "cpufeatures.h"
#include "percpu.h"
#include "sched/sched.h"
#include "printk.h"
#include "time.h"
#include "traps.h"

#define TIMER_DIVIDE_16 0x3 /* divide configuration register encoding */
#define CALIBRATE_US    10000

static bool use_deadline;
static uint64_t tsc_per_tick;
static uint32_t lapic_per_tick;

static void arm_next_tick(void)
{
    if (use_deadline)
        wrmsr(MSR_TSC_DEADLINE, rdtsc() + tsc_per_tick);
    else
        lapic_write(LAPIC_TIMER_INIT, lapic_per_tick);
}

static void timer_interrupt(struct trap_frame *f)
{
    (void)f;
    this_cpu()->ticks++;
    sched_tick();
    arm_next_tick();
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
    arm_next_tick();
}
