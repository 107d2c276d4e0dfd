/*
 * The virtual LAPIC's timer (SDM Vol. 3A 11.5.4): one-shot and periodic
 * counts at VLAPIC_BUS_HZ through the divide configuration register, and
 * TSC-deadline mode (11.5.4.1). Time is computed from env.now_ns and
 * env.read_tsc; expiry is seen by vlapic_timer_poll, which keeps the host
 * timer (env.timer_arm/timer_cancel) armed for the next one. Owner only.
 */
#include "apic/vlapic_internal.h"

#define TIMER_MODE_MASK  3u
#define MIN_PERIOD_NS    100000ull /* periodic timer floor: 10 kHz (KVM's is 200 us) */
#define NS_PER_S         1000000000ull
#define NS_PER_MS        1000000ull
#define MAX_TIMER_MS     (1ull << 40) /* TSC deadlines beyond ~35 years are "never" */
#define FALLBACK_TSC_KHZ 1000000ull   /* when env.tsc_khz is 0: 1 GHz */
#define DIV_WRITABLE     0xbu         /* bits 0, 1, 3 (SDM 11.5.4 figure 11-10) */

static uint32_t timer_mode(const struct vlapic *a)
{
    return (reg_get(a, VLAPIC_REG_LVT_TIMER) >> VLAPIC_LVT_TIMER_SHIFT) & TIMER_MODE_MASK;
}

static uint64_t now_ns(struct vlapic *a)
{
    return a->env.now_ns(a->env.ctx);
}

/* Divide configuration bits 0, 1, 3 -> 2, 4, 8, 16, 32, 64, 128, 1. */
static uint32_t divisor_of(uint32_t div_reg)
{
    uint32_t code = (div_reg & 3u) | ((div_reg >> 1) & 4u);
    return 1u << ((code + 1) & 7u);
}

static uint64_t sat_add(uint64_t x, uint64_t y)
{
    return x + y < x ? UINT64_MAX : x + y;
}

/* TSC ticks -> ns, rounded up so the host timer is never early; 64-bit math,
 * clamped so it cannot overflow. */
static uint64_t tsc_delta_to_ns(uint64_t delta, uint64_t khz)
{
    if (khz == 0)
        khz = FALLBACK_TSC_KHZ;
    uint64_t ms = delta / khz, rem = delta % khz;
    if (ms >= MAX_TIMER_MS || khz > UINT64_MAX / NS_PER_MS)
        return UINT64_MAX;
    return ms * NS_PER_MS + (rem * NS_PER_MS + khz - 1) / khz;
}

static uint64_t tsc_deadline_ns(struct vlapic *a, uint64_t deadline)
{
    uint64_t now = now_ns(a), tsc = a->env.read_tsc(a->env.ctx);
    if (deadline <= tsc)
        return now;
    return sat_add(now, tsc_delta_to_ns(deadline - tsc, a->env.tsc_khz));
}

/* Keeps the host timer in step: armed for an unmasked running timer. */
void vlapic_timer_sync(struct vlapic *a)
{
    struct vlapic_timer *t = &a->timer;
    bool masked = reg_get(a, VLAPIC_REG_LVT_TIMER) & VLAPIC_LVT_MASKED;
    bool tsc_mode = timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE;
    bool want = vlapic_hw_enabled(a) && !masked && (tsc_mode ? t->tsc_deadline != 0 : t->running);
    if (want && (!t->host_armed || t->armed_ns != t->deadline_ns)) {
        t->host_armed = true;
        t->armed_ns = t->deadline_ns;
        a->env.timer_arm(a->env.ctx, t->deadline_ns);
    } else if (!want && t->host_armed) {
        t->host_armed = false;
        a->env.timer_cancel(a->env.ctx);
    }
}

static void timer_stop(struct vlapic *a)
{
    a->timer.running = false;
    a->timer.tsc_deadline = 0;
    vlapic_timer_sync(a);
}

/* Power-on/INIT: divide by 2, stopped, host timer cancelled. */
void vlapic_timer_reset(struct vlapic *a)
{
    a->timer.divisor = divisor_of(0);
    timer_stop(a);
}

/* Expiry: the LVT vector into IRR unless masked (a masked expiry is lost). */
static void timer_fire(struct vlapic *a)
{
    uint32_t lvt = reg_get(a, VLAPIC_REG_LVT_TIMER);
    if (lvt & VLAPIC_LVT_MASKED)
        return;
    uint8_t vector = (uint8_t)(lvt & VLAPIC_LVT_VECTOR);
    vlapic_accept_fixed(a, vector, false);
    if (vector >= FIRST_VALID_VECTOR)
        vlapic_count(&a->counters.timer_interrupts);
}

void vlapic_timer_poll(struct vlapic *a)
{
    struct vlapic_timer *t = &a->timer;
    if (!vlapic_hw_enabled(a))
        return;
    uint64_t now = now_ns(a);
    if (t->host_armed && now >= t->armed_ns)
        t->host_armed = false; /* it went off (or is about to): arm again if still wanted */
    if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE) {
        if (t->tsc_deadline != 0 && a->env.read_tsc(a->env.ctx) >= t->tsc_deadline) {
            t->tsc_deadline = 0; /* it disarms itself and clears the MSR (SDM 11.5.4.1) */
            timer_fire(a);
        } else if (t->tsc_deadline != 0 && now >= t->deadline_ns) {
            t->deadline_ns = tsc_deadline_ns(a, t->tsc_deadline); /* woke early: re-convert */
        }
    } else if (t->running && now >= t->deadline_ns) {
        timer_fire(a);
        if (timer_mode(a) == VLAPIC_TIMER_PERIODIC) /* one interrupt for missed periods */
            t->deadline_ns += ((now - t->deadline_ns) / t->period_ns + 1) * t->period_ns;
        else
            t->running = false;
    }
    vlapic_timer_sync(a);
}

bool vlapic_timer_armed(const struct vlapic *a)
{
    return a->timer.host_armed;
}

uint32_t vlapic_timer_current(struct vlapic *a)
{
    const struct vlapic_timer *t = &a->timer;
    if (!t->running || timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE)
        return 0;
    uint64_t now = now_ns(a), remaining;
    if (now < t->deadline_ns)
        remaining = t->deadline_ns - now;
    else if (timer_mode(a) == VLAPIC_TIMER_PERIODIC)
        remaining = t->period_ns - (now - t->deadline_ns) % t->period_ns;
    else
        return 0;
    uint64_t cur = remaining / t->divisor, initial = reg_get(a, VLAPIC_REG_TIMER_INIT);
    return (uint32_t)(cur > initial ? initial : cur);
}

static uint64_t timer_period(const struct vlapic *a, uint32_t initial, uint32_t divisor)
{
    uint64_t period = (uint64_t)initial * divisor * (NS_PER_S / VLAPIC_BUS_HZ);
    if (timer_mode(a) == VLAPIC_TIMER_PERIODIC && period < MIN_PERIOD_NS)
        period = MIN_PERIOD_NS;
    return period;
}

/* Initial count: starts (or restarts) the count; 0 stops it; ignored in
 * TSC-deadline mode (SDM 11.5.4). */
void vlapic_timer_set_initial(struct vlapic *a, uint32_t initial)
{
    struct vlapic_timer *t = &a->timer;
    if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE)
        return;
    reg_set(a, VLAPIC_REG_TIMER_INIT, initial);
    t->running = initial != 0;
    if (t->running) {
        t->period_ns = timer_period(a, initial, t->divisor);
        t->deadline_ns = now_ns(a) + t->period_ns;
    }
    vlapic_timer_sync(a);
}

/* A new divisor while counting: the current count carries on at the new rate. */
void vlapic_timer_set_divide(struct vlapic *a, uint32_t value)
{
    struct vlapic_timer *t = &a->timer;
    vlapic_timer_poll(a);
    uint32_t divisor = divisor_of(value);
    reg_set(a, VLAPIC_REG_TIMER_DIV, value & DIV_WRITABLE);
    if (t->running && timer_mode(a) != VLAPIC_TIMER_TSC_DEADLINE) {
        uint32_t cur = vlapic_timer_current(a);
        t->period_ns = timer_period(a, reg_get(a, VLAPIC_REG_TIMER_INIT), divisor);
        t->deadline_ns = now_ns(a) + (uint64_t)cur * divisor;
    }
    t->divisor = divisor;
    vlapic_timer_sync(a);
}

void vlapic_tsc_deadline_write(struct vlapic *a, uint64_t value)
{
    if (!vlapic_hw_enabled(a) || timer_mode(a) != VLAPIC_TIMER_TSC_DEADLINE)
        return; /* ignored outside TSC-deadline mode (SDM 11.5.4.1) */
    a->timer.tsc_deadline = value;
    if (value != 0)
        a->timer.deadline_ns = tsc_deadline_ns(a, value);
    vlapic_timer_poll(a); /* fires now if already due, else arms */
}

/* LVT timer: a mode change disarms the timer (SDM 11.5.4.1): the count
 * stops, the initial count and IA32_TSC_DEADLINE read 0. The reserved mode
 * 11b is stored as one-shot. */
void vlapic_timer_lvt_write(struct vlapic *a, uint32_t value)
{
    vlapic_timer_poll(a); /* an expiry due before the write uses the old entry */
    uint32_t mode = (value >> VLAPIC_LVT_TIMER_SHIFT) & TIMER_MODE_MASK;
    if (mode == TIMER_MODE_MASK)
        value &= ~(TIMER_MODE_MASK << VLAPIC_LVT_TIMER_SHIFT);
    bool changed = timer_mode(a) != ((value >> VLAPIC_LVT_TIMER_SHIFT) & TIMER_MODE_MASK);
    reg_set(a, VLAPIC_REG_LVT_TIMER, value);
    if (changed) {
        reg_set(a, VLAPIC_REG_TIMER_INIT, 0);
        timer_stop(a);
    }
    vlapic_timer_sync(a);
}

uint64_t vlapic_tsc_deadline_read(struct vlapic *a)
{
    vlapic_timer_poll(a); /* reads 0 once it fired */
    bool tsc_mode = vlapic_hw_enabled(a) && timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE;
    return tsc_mode ? a->timer.tsc_deadline : 0;
}
