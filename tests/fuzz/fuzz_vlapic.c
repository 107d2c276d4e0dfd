/*
 * libFuzzer target: the virtual local APIC (kernel/apic/vlapic*.c) as a guest
 * drives it, 2-4 LAPICs of one VM in a fake environment: a clock the input
 * advances, a TSC derived from it, host timers recorded, IPIs routed among
 * the LAPICs with vlapic_route, level EOIs recorded.
 *
 * Input: a header, then operations until the input ends (a missing operand
 * byte reads 0).
 *   header  byte 0: bits 1:0 LAPIC count (2 + n % 3); bits 3:2 IDs (0: 0..n-1,
 *           1: 0xfe.., 2: 15, 31, 47.., 3: a 32-bit ID each from the input);
 *           bits 6:4 TSC kHz (table below; 7: a 32-bit value from the input);
 *           bit 7 virtual-wire mode on LAPIC 0. Byte 1: the TSC at time 0
 *           (byte << 28).
 *   op      a byte: bits 4:0 the operation (mod OP_COUNT, see the enum),
 *           bits 7:5 the LAPIC (mod count); its operands follow.
 * The fake TSC runs at the rate the LAPICs are told, except while OP_ADVANCE
 * says it stands still (a TSC that lags the clock: a TSC-deadline timer then
 * wakes early and re-converts).
 * A register index idx is the xAPIC offset >> 4 (x2APIC MSR 0x800 + idx);
 * OP_REG_READ/WRITE go through MMIO in xAPIC mode and MSRs otherwise, so one
 * input programs the LAPIC in either mode.
 *
 * Invariants, after every operation on every LAPIC: IA32_APIC_BASE has no
 * reserved bit, EXTD implies EN, BSP only on LAPIC 0; vectors 0-15 are never
 * in IRR/ISR/TMR; PPR follows SDM 11.8.3.1 from TPR and ISR (so PPR[7:4] >=
 * TPR[7:4]); vlapic_pending_vector() is -1 or 16..255, the highest IRR vector
 * when its class is above PPR's (and -1 when globally disabled); the host
 * timer is armed exactly when the model says (the fake's arm/cancel calls
 * agree with vlapic_timer_armed, and it is never armed while globally
 * disabled or the LVT timer masked); a software-disabled LAPIC has its LVTs
 * masked (LINT0/1 excepted: virtual wire); no register holds bits it cannot
 * hold. Per operation: MMIO is handled exactly in xAPIC mode for offsets
 * < 4 KiB and sizes 1, 2, 4, 8 (so never in x2APIC mode), its reads fit
 * their size; 0x800-0x8ff only in x2APIC mode; the version register reads
 * 0x00050014 and the ID register the LAPIC's ID; IA32_APIC_BASE writes
 * succeed exactly as SDM 11.12.5 allows and a refused write changes
 * nothing; a dropped vlapic_accept() changes nothing, an accepted one sets
 * what it should; MSIs decode as SDM 11.11 says; routing reaches distinct,
 * enabled LAPICs (one at most for lowest priority); IPIs sent through the
 * environment are never to self only, never illegal; acknowledging the
 * pending vector moves it from IRR to ISR; EOI clears the highest ISR bit
 * and reports it to eoi_level exactly when its TMR bit was set; a poll at or
 * after the host timer's deadline fires the timer (or, a TSC deadline the
 * lagging TSC has not reached, re-arms it), and after a poll the host timer,
 * if armed, is armed in the future.
 */
#include <stddef.h>
#include <stdint.h>

#include "apic/vlapic.h"
#include "fuzz_check.h"
#include "fuzz_input.h"

#define MAX_APICS 4
#define NS_PER_MS 1000000ull
#define START_NS  1000000ull
#define NOW_MAX   (1ull << 60) /* 36 years of uptime */
#define FIRST_OK  16u          /* vectors 0-15 are illegal (SDM 11.5.2) */
#define REG(off)  ((off) >> 2)
#define ESR_BITS                                                                                   \
    (VLAPIC_ESR_SEND_ILLEGAL_VECTOR | VLAPIC_ESR_RECV_ILLEGAL_VECTOR | VLAPIC_ESR_ILLEGAL_REGISTER)
#define ADDR_MASK  0x00003ffffffff000ull /* IA32_APIC_BASE bits 45:12 (MAXPHYADDR 46) */
#define BASE_BITS  (ADDR_MASK | VLAPIC_BASE_BSP | VLAPIC_BASE_EXTD | VLAPIC_BASE_EN)
#define LVT_MODE   (3u << VLAPIC_LVT_TIMER_SHIFT)
#define LVT_POL    (1u << 13)
#define LVT_SENSOR (VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_MASKED)
#define LVT_LINT   (LVT_SENSOR | LVT_POL | VLAPIC_LVT_LEVEL)
#define MIN_PERIOD 100000ull /* vlapic_timer.c's periodic floor */
#define MSR_EOI    (VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_REG_EOI >> 4))
#define IDX_ICR    (VLAPIC_REG_ICR_LO >> 4)
#define IDX_MASK   0x3fu /* register indices 0x00-0x3f: offsets 0x000-0x3f0 */

enum {
    OP_REG_READ,     /* idx */
    OP_REG_WRITE,    /* idx, u32 value; ICR: u32 destination too */
    OP_MMIO,         /* flags (bit 0 write), u16 offset, u8 size, u64 value */
    OP_MSR_READ,     /* n: MSR 0x800 + n */
    OP_MSR_WRITE,    /* n, flags (bit 0: 64-bit value), u32 or u64 value */
    OP_TSC_DEADLINE, /* flags (bit 0 write, bit 1 TSC + u32, else u64) */
    OP_BASE,         /* sel (bit 7: u64 follows, else EN = bit 0, EXTD = bit 1) */
    OP_ADVANCE,      /* shift (bits 5:0; 6: the TSC stands still; 7: poll expired timers), u16 */
    OP_POLL,
    OP_ACCEPT, /* irq (see get_irq) */
    OP_ROUTE,  /* irq */
    OP_MSI,    /* flags (bit 0: u64 address, else 0xfee00000 | u32 & 0xfffff), u32 data */
    OP_ACK,
    OP_TAKE, /* which: 0 NMI, 1 INIT, 2 SIPI */
    OP_INIT_SIGNAL,
    OP_LINT,    /* pin (any), level */
    OP_SET_TPR, /* tpr */
    OP_EOI,
    OP_VIRTUAL_WIRE,
    OP_COUNT
};

struct world;

/* One vCPU's environment, as the fake sees its calls. */
struct cpu {
    struct world *w;
    unsigned index;
    bool armed;        /* timer_arm given, timer_cancel not since */
    uint64_t deadline; /* what timer_arm was last given */
    unsigned eois;     /* eoi_level calls */
    uint8_t eoi_vector;
};

struct world {
    uint64_t now, tsc0;
    uint64_t khz;          /* the fake TSC's rate (the LAPICs may be told 0: 1 GHz) */
    unsigned __int128 lag; /* ticks the TSC stood still for */
    unsigned count;
    struct vlapic apic[MAX_APICS];
    struct vlapic *apics[MAX_APICS];
    struct cpu cpu[MAX_APICS];
};

static unsigned __int128 ticks_at(const struct world *w, uint64_t ns)
{
    return (unsigned __int128)ns * w->khz / NS_PER_MS + w->tsc0;
}

static uint64_t tsc_now(const struct world *w)
{
    unsigned __int128 t = ticks_at(w, w->now) - w->lag;
    return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* ---- register and model helpers ---- */

static uint32_t reg(const struct vlapic *a, uint32_t off)
{
    return a->regs[REG(off)];
}

static bool vec_bit(const struct vlapic *a, uint32_t base, unsigned v)
{
    return (reg(a, base + (v / 32) * 16) >> (v % 32)) & 1u;
}

static int vec_top(const struct vlapic *a, uint32_t base)
{
    for (int w = 7; w >= 0; w--) {
        uint32_t bits = reg(a, base + (uint32_t)w * 16);
        if (bits != 0)
            return w * 32 + 31 - __builtin_clz(bits);
    }
    return -1;
}

static bool hw_on(const struct vlapic *a)
{
    return a->base_msr & VLAPIC_BASE_EN;
}

static bool x2_on(const struct vlapic *a)
{
    return (a->base_msr & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) ==
           (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

static bool xapic_on(const struct vlapic *a)
{
    return (a->base_msr & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) == VLAPIC_BASE_EN;
}

static bool sw_on(const struct vlapic *a)
{
    return reg(a, VLAPIC_REG_SVR) & VLAPIC_SVR_ENABLE;
}

static unsigned timer_mode(const struct vlapic *a)
{
    return (reg(a, VLAPIC_REG_LVT_TIMER) & LVT_MODE) >> VLAPIC_LVT_TIMER_SHIFT;
}

/* SDM 11.8.3.1: PPR is TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4. */
static uint8_t model_ppr(const struct vlapic *a)
{
    uint8_t tpr = (uint8_t)reg(a, VLAPIC_REG_TPR);
    int isrv = vec_top(a, VLAPIC_REG_ISR);
    uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xf0);
    return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

static int model_pending(const struct vlapic *a)
{
    int irrv = vec_top(a, VLAPIC_REG_IRR);
    if (!hw_on(a) || irrv < 0 || (irrv & 0xf0) <= (model_ppr(a) & 0xf0))
        return -1;
    return irrv;
}

static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 15));
}

static uint32_t divisor_of(uint32_t div)
{
    uint32_t code = (div & 3u) | ((div >> 1) & 4u);
    return 1u << ((code + 1) & 7u);
}

static bool valid_size(unsigned s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

/* ---- the environment ---- */

static uint64_t env_now(void *ctx)
{
    return ((struct cpu *)ctx)->w->now;
}

static uint64_t env_tsc(void *ctx)
{
    return tsc_now(((struct cpu *)ctx)->w);
}

static void env_arm(void *ctx, uint64_t deadline_ns)
{
    struct cpu *c = ctx;
    c->armed = true;
    c->deadline = deadline_ns;
}

static void env_cancel(void *ctx)
{
    struct cpu *c = ctx;
    REQUIRE(c->armed); /* cancelled only while armed (vlapic_timer_sync) */
    c->armed = false;
}

static void env_eoi_level(void *ctx, uint8_t vector)
{
    struct cpu *c = ctx;
    REQUIRE(vector >= FIRST_OK);
    c->eois++;
    c->eoi_vector = vector;
}

static bool in_vm(const struct world *w, const struct vlapic *t)
{
    for (unsigned i = 0; i < w->count; i++) {
        if (t == &w->apic[i])
            return true;
    }
    return false;
}

/* vlapic_route with what it promises: distinct enabled targets among the
 * VM's, one at most for lowest priority, each holding what it took. */
static unsigned route_checked(struct world *w, const struct vlapic_irq *irq)
{
    struct vlapic *targets[MAX_APICS];
    unsigned n = vlapic_route(w->apics, w->count, irq, targets);
    REQUIRE(n <= w->count);
    REQUIRE(irq->delivery_mode != APIC_DM_LOWEST || n <= 1);
    for (unsigned i = 0; i < n; i++) {
        const struct vlapic *t = targets[i];
        REQUIRE(in_vm(w, t));
        for (unsigned j = 0; j < i; j++)
            REQUIRE(targets[j] != t);
        REQUIRE(hw_on(t));
        switch (irq->delivery_mode) {
        case APIC_DM_NMI:
            REQUIRE(t->nmi_pending);
            break;
        case APIC_DM_INIT:
            REQUIRE(t->init_pending);
            break;
        case APIC_DM_STARTUP:
            REQUIRE(t->sipi_pending == (VLAPIC_SIPI_PENDING | irq->vector));
            break;
        default:
            REQUIRE(sw_on(t));
            if (irq->vector >= FIRST_OK)
                REQUIRE(vec_bit(t, VLAPIC_REG_IRR, irq->vector));
            break;
        }
    }
    return n;
}

static void env_send_ipi(void *ctx, const struct vlapic_irq *irq)
{
    struct cpu *c = ctx;
    struct world *w = c->w;
    const struct vlapic *src = &w->apic[c->index];
    uint8_t dm = irq->delivery_mode;
    bool fixed = dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST;
    REQUIRE(irq->source == src && hw_on(src));
    REQUIRE(irq->shorthand != APIC_SH_SELF && irq->shorthand <= APIC_SH_OTHERS);
    REQUIRE(irq->x2apic_format == x2_on(src));
    REQUIRE(irq->x2apic_format || irq->dest <= 0xff);
    REQUIRE(fixed || dm == APIC_DM_NMI || dm == APIC_DM_INIT || dm == APIC_DM_STARTUP);
    REQUIRE(!fixed || irq->vector >= FIRST_OK);
    REQUIRE(!(dm == APIC_DM_INIT && irq->level_trigger && !irq->assert));
    route_checked(w, irq);
}

/* ---- invariants of one LAPIC ---- */

static void check_lvts(const struct vlapic *a)
{
    uint32_t timer = reg(a, VLAPIC_REG_LVT_TIMER), lint0 = reg(a, VLAPIC_REG_LVT_LINT0);
    REQUIRE((timer & ~(VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED | LVT_MODE)) == 0);
    REQUIRE(timer_mode(a) != 3); /* the reserved mode is stored as one-shot */
    REQUIRE((reg(a, VLAPIC_REG_LVT_THERMAL) & ~LVT_SENSOR) == 0);
    REQUIRE((reg(a, VLAPIC_REG_LVT_PERF) & ~LVT_SENSOR) == 0);
    REQUIRE((lint0 & ~(LVT_LINT | VLAPIC_LVT_REMOTE_IRR)) == 0);
    REQUIRE(!(lint0 & VLAPIC_LVT_REMOTE_IRR) || (lint0 & VLAPIC_LVT_LEVEL));
    REQUIRE((reg(a, VLAPIC_REG_LVT_LINT1) & ~LVT_LINT) == 0);
    REQUIRE((reg(a, VLAPIC_REG_LVT_ERROR) & ~(VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED)) == 0);
    if (!sw_on(a)) { /* SDM 11.4.7.2; LINT0/1 may be unmasked by virtual-wire mode */
        REQUIRE(timer & VLAPIC_LVT_MASKED);
        REQUIRE(reg(a, VLAPIC_REG_LVT_THERMAL) & VLAPIC_LVT_MASKED);
        REQUIRE(reg(a, VLAPIC_REG_LVT_PERF) & VLAPIC_LVT_MASKED);
        REQUIRE(reg(a, VLAPIC_REG_LVT_ERROR) & VLAPIC_LVT_MASKED);
    }
    uint32_t dm = (lint0 & VLAPIC_LVT_DM_MASK) >> VLAPIC_LVT_DM_SHIFT;
    bool extint = !(lint0 & VLAPIC_LVT_MASKED) && dm == APIC_DM_EXTINT;
    REQUIRE(vlapic_accepts_extint(a) == (!hw_on(a) || extint));
}

static void check_timer(const struct world *w, const struct vlapic *a, const struct cpu *c)
{
    const struct vlapic_timer *t = &a->timer;
    REQUIRE((reg(a, VLAPIC_REG_TIMER_DIV) & ~0xbu) == 0);
    REQUIRE(t->divisor == divisor_of(reg(a, VLAPIC_REG_TIMER_DIV)));
    REQUIRE(vlapic_timer_armed(a) == t->host_armed);
    if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE)
        REQUIRE(!t->running);
    else
        REQUIRE(t->tsc_deadline == 0);
    if (t->running && timer_mode(a) == VLAPIC_TIMER_PERIODIC)
        REQUIRE(t->period_ns >= MIN_PERIOD);
    if (t->host_armed) {
        REQUIRE(c->armed && c->deadline == t->armed_ns && t->armed_ns == t->deadline_ns);
        REQUIRE(hw_on(a) && !(reg(a, VLAPIC_REG_LVT_TIMER) & VLAPIC_LVT_MASKED));
    } else {
        REQUIRE(!c->armed || c->deadline <= w->now); /* it went off */
    }
}

static void check_apic(const struct world *w, unsigned i)
{
    const struct vlapic *a = &w->apic[i];
    uint64_t base = a->base_msr;
    REQUIRE((base & ~BASE_BITS) == 0);
    REQUIRE(!(base & VLAPIC_BASE_EXTD) || (base & VLAPIC_BASE_EN));
    REQUIRE(!!(base & VLAPIC_BASE_BSP) == (i == 0));
    REQUIRE(vlapic_base_msr(a) == base);
    REQUIRE(vlapic_hw_enabled(a) == hw_on(a) && vlapic_x2apic_mode(a) == x2_on(a));
    REQUIRE(vlapic_in_xapic_page(a, (base & ADDR_MASK) | 0xff0) == xapic_on(a));
    REQUIRE(!vlapic_in_xapic_page(a, (base & ADDR_MASK) + VLAPIC_PAGE_SIZE));
    REQUIRE(vlapic_sw_enabled(a) == sw_on(a) && vlapic_counters(a) == &a->counters);
    REQUIRE((reg(a, VLAPIC_REG_SVR) & ~0x3ffu) == 0);
    REQUIRE(reg(a, VLAPIC_REG_TPR) <= 0xff && vlapic_tpr(a) == reg(a, VLAPIC_REG_TPR));
    REQUIRE((reg(a, VLAPIC_REG_ESR) & ~ESR_BITS) == 0 && (a->esr_latch & ~ESR_BITS) == 0);
    REQUIRE((reg(a, VLAPIC_REG_DFR) & 0x0fffffffu) == 0x0fffffffu);
    if (x2_on(a))
        REQUIRE(reg(a, VLAPIC_REG_LDR) == x2apic_ldr(a->apic_id));
    else
        REQUIRE((reg(a, VLAPIC_REG_LDR) & 0x00ffffffu) == 0);
    REQUIRE((reg(a, VLAPIC_REG_IRR) & 0xffff) == 0 && (reg(a, VLAPIC_REG_ISR) & 0xffff) == 0 &&
            (reg(a, VLAPIC_REG_TMR) & 0xffff) == 0);

    uint8_t ppr = model_ppr(a);
    REQUIRE((ppr & 0xf0) >= (reg(a, VLAPIC_REG_TPR) & 0xf0));
    int pv = vlapic_pending_vector(a);
    REQUIRE(pv == -1 || (pv >= (int)FIRST_OK && pv <= 255));
    if (pv >= 0)
        REQUIRE(vec_bit(a, VLAPIC_REG_IRR, (unsigned)pv) && (pv & 0xf0) > (ppr & 0xf0));
    REQUIRE(pv == model_pending(a));

    REQUIRE(a->nmi_pending <= 1 && a->init_pending <= 1);
    REQUIRE(a->sipi_pending == 0 || (a->sipi_pending & ~0xffu) == VLAPIC_SIPI_PENDING);
    REQUIRE(vlapic_has_event(a) ==
            (pv >= 0 || a->nmi_pending || a->init_pending || a->sipi_pending));
    check_lvts(a);
    check_timer(w, a, &w->cpu[i]);
}

static void check_all(const struct world *w)
{
    for (unsigned i = 0; i < w->count; i++)
        check_apic(w, i);
}

/* ---- operations ---- */

/* An EOI's effect, before and after. */
struct eoi_expect {
    int vector;
    bool level;
    unsigned eois;
};

static struct eoi_expect eoi_before(const struct world *w, unsigned i)
{
    const struct vlapic *a = &w->apic[i];
    struct eoi_expect e = {vec_top(a, VLAPIC_REG_ISR), false, w->cpu[i].eois};
    if (e.vector >= 0)
        e.level = vec_bit(a, VLAPIC_REG_TMR, (unsigned)e.vector);
    return e;
}

static void eoi_after(const struct world *w, unsigned i, const struct eoi_expect *e)
{
    const struct cpu *c = &w->cpu[i];
    if (e->vector >= 0)
        REQUIRE(!vec_bit(&w->apic[i], VLAPIC_REG_ISR, (unsigned)e->vector));
    REQUIRE(c->eois == e->eois + (e->level ? 1u : 0u));
    if (e->level)
        REQUIRE(c->eoi_vector == e->vector);
}

/* What a 4-byte read of offset off (a register) must give, when known. */
static void check_reg_value(struct vlapic *a, uint32_t off, uint64_t v)
{
    switch (off) {
    case VLAPIC_REG_VERSION:
        REQUIRE(v == VLAPIC_VERSION_VALUE);
        break;
    case VLAPIC_REG_ID:
        REQUIRE(v == (x2_on(a) ? a->apic_id : a->apic_id << 24));
        break;
    case VLAPIC_REG_PPR:
        REQUIRE(v == model_ppr(a));
        break;
    case VLAPIC_REG_TIMER_CUR:
        REQUIRE(v <= reg(a, VLAPIC_REG_TIMER_INIT));
        REQUIRE(v == 0 || timer_mode(a) != VLAPIC_TIMER_TSC_DEADLINE);
        break;
    case VLAPIC_REG_LDR:
        REQUIRE(!x2_on(a) || v == x2apic_ldr(a->apic_id));
        break;
    default:
        break;
    }
}

static bool mmio_read_checked(struct vlapic *a, uint32_t off, unsigned size, uint64_t *v)
{
    bool expect = xapic_on(a) && off < VLAPIC_PAGE_SIZE && valid_size(size);
    *v = 0;
    bool ok = vlapic_mmio_read(a, off, size, v);
    REQUIRE(ok == expect);
    if (ok && size < 8)
        REQUIRE(*v >> (8 * size) == 0);
    if (ok && size == 4)
        check_reg_value(a, off, *v);
    return ok;
}

static bool mmio_write_checked(struct world *w, unsigned i, uint32_t off, unsigned size, uint64_t v)
{
    struct vlapic *a = &w->apic[i];
    bool expect = xapic_on(a) && off < VLAPIC_PAGE_SIZE && valid_size(size);
    bool eoi = expect && off == VLAPIC_REG_EOI && size == 4;
    struct eoi_expect e = eoi_before(w, i);
    bool ok = vlapic_mmio_write(a, off, size, v);
    REQUIRE(ok == expect);
    if (eoi)
        eoi_after(w, i, &e);
    return ok;
}

static bool msr_read_checked(struct vlapic *a, uint32_t msr, uint64_t *v)
{
    *v = 0;
    bool ok = vlapic_msr_read(a, msr, v);
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        REQUIRE(ok);
        REQUIRE(*v == 0 || (hw_on(a) && timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE));
        REQUIRE(*v == a->timer.tsc_deadline || *v == 0);
        return ok;
    }
    bool in_range = msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST;
    REQUIRE(!ok || (in_range && x2_on(a)));
    if (!ok)
        return ok;
    uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) << 4;
    if (off != VLAPIC_REG_ICR_LO) {
        REQUIRE(*v <= UINT32_MAX);
        check_reg_value(a, off, *v);
    }
    return ok;
}

static bool msr_write_checked(struct world *w, unsigned i, uint32_t msr, uint64_t v)
{
    struct vlapic *a = &w->apic[i];
    struct eoi_expect e = eoi_before(w, i);
    bool x2 = x2_on(a);
    bool ok = vlapic_msr_write(a, msr, v);
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        REQUIRE(ok);
        return ok;
    }
    REQUIRE(!ok || (x2 && msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST));
    if (msr == MSR_EOI)
        REQUIRE(ok == (x2 && v == 0)); /* a non-zero EOI write #GPs (SDM table 11-6) */
    if (ok && msr == MSR_EOI)
        eoi_after(w, i, &e);
    return ok;
}

static void op_reg_read(struct world *w, unsigned i, uint8_t idx)
{
    struct vlapic *a = &w->apic[i];
    uint32_t n = idx & IDX_MASK;
    uint64_t v;
    if (xapic_on(a))
        mmio_read_checked(a, n << 4, 4, &v);
    else
        msr_read_checked(a, VLAPIC_MSR_X2APIC_FIRST + n, &v);
}

static void op_reg_write(struct world *w, unsigned i, struct input *in)
{
    struct vlapic *a = &w->apic[i];
    uint32_t n = get8(in) & IDX_MASK, value = get32(in);
    uint32_t dest = n == IDX_ICR ? get32(in) : 0;
    if (x2_on(a)) {
        uint64_t v = n == IDX_ICR ? (uint64_t)dest << 32 | value : value;
        msr_write_checked(w, i, VLAPIC_MSR_X2APIC_FIRST + n, v);
        return;
    }
    if (n == IDX_ICR)
        mmio_write_checked(w, i, VLAPIC_REG_ICR_HI, 4, dest << 24);
    mmio_write_checked(w, i, n << 4, 4, value);
}

static void op_mmio(struct world *w, unsigned i, struct input *in)
{
    uint8_t flags = get8(in);
    uint32_t off = get16(in);
    unsigned size = get8(in);
    uint64_t v = get64(in);
    if (flags & 1)
        mmio_write_checked(w, i, off, size, v);
    else
        mmio_read_checked(&w->apic[i], off, size, &v);
}

static void op_tsc_deadline(struct world *w, unsigned i, struct input *in)
{
    uint8_t flags = get8(in);
    uint64_t v;
    if (!(flags & 1)) {
        msr_read_checked(&w->apic[i], VLAPIC_MSR_TSC_DEADLINE, &v);
        return;
    }
    v = flags & 2 ? tsc_now(w) + get32(in) : get64(in);
    msr_write_checked(w, i, VLAPIC_MSR_TSC_DEADLINE, v);
}

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.5): the valid transitions succeed, the
 * others #GP and change nothing. */
static void op_base(struct world *w, unsigned i, struct input *in)
{
    struct vlapic *a = &w->apic[i];
    uint8_t sel = get8(in);
    uint64_t old = a->base_msr, v;
    if (sel & 0x80)
        v = get64(in);
    else
        v = (old & ~(VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) | (sel & 1 ? VLAPIC_BASE_EN : 0) |
            (sel & 2 ? VLAPIC_BASE_EXTD : 0);
    bool en = v & VLAPIC_BASE_EN, extd = v & VLAPIC_BASE_EXTD;
    bool valid = (v & ~BASE_BITS) == 0 && !(extd && !en) && !(extd && !hw_on(a)) &&
                 !(x2_on(a) && en && !extd);
    struct vlapic before;
    memcpy(&before, a, sizeof(before));
    bool ok = vlapic_set_base_msr(a, v);
    REQUIRE(ok == valid);
    if (!ok) {
        REQUIRE(memcmp(&before, a, sizeof(before)) == 0);
        return;
    }
    REQUIRE(a->base_msr == ((v & ~VLAPIC_BASE_BSP) | (old & VLAPIC_BASE_BSP)));
    if (en != !!(old & VLAPIC_BASE_EN)) /* a reset: software-disabled, nothing pending */
        REQUIRE(!sw_on(a) && vec_top(a, VLAPIC_REG_IRR) < 0 && vec_top(a, VLAPIC_REG_ISR) < 0 &&
                !a->timer.host_armed);
}

/* A poll; when the host timer had gone off, the timer fires (an interrupt,
 * or an illegal-vector error for a vector < 16), or, a TSC deadline the
 * lagging TSC has not reached, is armed again. Either way a host timer left
 * armed is in the future. */
static void poll_checked(struct world *w, unsigned i)
{
    struct vlapic *a = &w->apic[i];
    bool due = a->timer.host_armed && w->now >= a->timer.armed_ns;
    bool tsc_mode = timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE;
    uint64_t fired = a->counters.timer_interrupts;
    bool illegal = (reg(a, VLAPIC_REG_LVT_TIMER) & VLAPIC_LVT_VECTOR) < FIRST_OK;
    vlapic_timer_poll(a);
    if (due)
        REQUIRE(a->counters.timer_interrupts == fired + 1 ||
                (illegal && (a->esr_latch & VLAPIC_ESR_RECV_ILLEGAL_VECTOR)) ||
                (tsc_mode && a->timer.tsc_deadline > tsc_now(w) && a->timer.host_armed));
    REQUIRE(!a->timer.host_armed || a->timer.armed_ns > w->now);
}

static void op_advance(struct world *w, struct input *in)
{
    uint8_t shift = get8(in);
    uint64_t delta = (uint64_t)get16(in) << ((shift & 0x3f) % 40), then = w->now;
    w->now = delta > NOW_MAX - w->now ? NOW_MAX : w->now + delta;
    if (shift & 0x40)
        w->lag += ticks_at(w, w->now) - ticks_at(w, then);
    if (!(shift & 0x80))
        return;
    for (unsigned i = 0; i < w->count; i++) { /* the host timers that went off */
        if (w->cpu[i].armed && w->cpu[i].deadline <= w->now)
            poll_checked(w, i);
    }
}

/* irq: vector, delivery mode (any), flags (bit 0 logical, 1 level, 2
 * assert, 3 x2APIC format, 4 a source, 7:5 which), shorthand (any), u32
 * destination. */
static void get_irq(const struct world *w, struct input *in, struct vlapic_irq *irq)
{
    irq->vector = get8(in);
    irq->delivery_mode = get8(in);
    uint8_t flags = get8(in);
    irq->logical = flags & 1;
    irq->level_trigger = flags & 2;
    irq->assert = flags & 4;
    irq->x2apic_format = flags & 8;
    irq->source = flags & 16 ? &w->apic[(flags >> 5) % w->count] : NULL;
    irq->shorthand = get8(in);
    irq->dest = get32(in);
}

static void op_accept(struct world *w, unsigned i, struct input *in)
{
    struct vlapic *a = &w->apic[i];
    struct vlapic_irq irq;
    get_irq(w, in, &irq);
    uint8_t dm = irq.delivery_mode;
    bool fixed = dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST;
    bool known = dm == APIC_DM_NMI || dm == APIC_DM_INIT || dm == APIC_DM_STARTUP;
    bool dropped = !hw_on(a) || (irq.level_trigger && !irq.assert) || (fixed && !sw_on(a)) ||
                   (!fixed && !known);
    struct vlapic before;
    memcpy(&before, a, sizeof(before));
    bool took = vlapic_accept(a, &irq);
    if (dropped) {
        REQUIRE(!took && memcmp(&before, a, sizeof(before)) == 0);
        return;
    }
    switch (dm) {
    case APIC_DM_NMI:
        REQUIRE(a->nmi_pending && took == !before.nmi_pending);
        break;
    case APIC_DM_INIT:
        REQUIRE(a->init_pending && took == !before.init_pending);
        break;
    case APIC_DM_STARTUP:
        REQUIRE(took && a->sipi_pending == (VLAPIC_SIPI_PENDING | irq.vector));
        break;
    default:
        if (irq.vector < FIRST_OK) {
            REQUIRE(a->esr_latch & VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
            break;
        }
        REQUIRE(vec_bit(a, VLAPIC_REG_IRR, irq.vector));
        REQUIRE(vec_bit(a, VLAPIC_REG_TMR, irq.vector) == irq.level_trigger);
        REQUIRE(took == !vec_bit(&before, VLAPIC_REG_IRR, irq.vector));
        break;
    }
}

/* MSI (SDM 11.11): the address must be 0x00000000fee.....; the fields
 * decode as the SDM lays them out; then it is routed. */
static void op_msi(struct world *w, struct input *in)
{
    uint8_t flags = get8(in);
    uint64_t address = flags & 1 ? get64(in) : VLAPIC_DEFAULT_BASE | (get32(in) & 0xfffff);
    uint32_t data = get32(in);
    struct vlapic_irq irq;
    bool ok = vlapic_msi_to_irq(address, data, &irq);
    REQUIRE(ok == (address >> 20 == 0xfee));
    if (!ok)
        return;
    uint8_t dm = (data >> 8) & 7;
    if (dm == APIC_DM_FIXED && (address & 8))
        dm = APIC_DM_LOWEST;
    REQUIRE(irq.vector == (uint8_t)data && irq.delivery_mode == dm);
    REQUIRE(irq.dest == ((address >> 12) & 0xff) && irq.logical == !!(address & 4));
    REQUIRE(irq.level_trigger == !!(data & 0x8000));
    REQUIRE(irq.assert == (!(data & 0x8000) || (data & 0x4000)));
    REQUIRE(irq.shorthand == APIC_SH_NONE && !irq.x2apic_format && irq.source == NULL);
    route_checked(w, &irq);
}

/* The core injects the pending vector: IRR -> ISR, and PPR rises to it. */
static void op_ack(struct world *w, unsigned i)
{
    struct vlapic *a = &w->apic[i];
    int v = vlapic_pending_vector(a);
    if (v < 0)
        return;
    vlapic_ack(a, (uint8_t)v);
    REQUIRE(vec_bit(a, VLAPIC_REG_ISR, (unsigned)v) && !vec_bit(a, VLAPIC_REG_IRR, (unsigned)v));
    REQUIRE((model_ppr(a) & 0xf0) >= (v & 0xf0));
    REQUIRE(vlapic_pending_vector(a) != v);
}

static void op_take(struct world *w, unsigned i, uint8_t which)
{
    struct vlapic *a = &w->apic[i];
    switch (which % 3) {
    case 0: {
        bool had = a->nmi_pending;
        REQUIRE(vlapic_take_nmi(a) == had && !a->nmi_pending);
        break;
    }
    case 1: {
        bool had = a->init_pending;
        REQUIRE(vlapic_take_init(a) == had && !a->init_pending);
        break;
    }
    default: {
        uint32_t had = a->sipi_pending;
        int v = vlapic_take_sipi(a);
        REQUIRE(v >= -1 && v <= 255 && a->sipi_pending == 0);
        REQUIRE(v == (had ? (int)(had & 0xff) : -1));
        break;
    }
    }
}

/* INIT (SDM 11.4.7.3): power-on registers, ID and base MSR kept, a pending
 * NMI dropped, INIT/SIPI kept. */
static void op_init_signal(struct world *w, unsigned i)
{
    struct vlapic *a = &w->apic[i];
    uint64_t base = a->base_msr;
    uint8_t init = a->init_pending;
    uint32_t sipi = a->sipi_pending;
    vlapic_init_signal(a);
    REQUIRE(a->base_msr == base && a->init_pending == init && a->sipi_pending == sipi);
    REQUIRE(!a->nmi_pending && !a->timer.host_armed);
    REQUIRE(reg(a, VLAPIC_REG_SVR) == 0xff && reg(a, VLAPIC_REG_TPR) == 0);
    REQUIRE(vec_top(a, VLAPIC_REG_IRR) < 0 && vec_top(a, VLAPIC_REG_ISR) < 0 &&
            vec_top(a, VLAPIC_REG_TMR) < 0);
    for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += 16)
        REQUIRE(reg(a, off) == VLAPIC_LVT_MASKED);
}

static void op_eoi(struct world *w, unsigned i)
{
    struct vlapic *a = &w->apic[i];
    if (xapic_on(a))
        mmio_write_checked(w, i, VLAPIC_REG_EOI, 4, 0);
    else
        msr_write_checked(w, i, MSR_EOI, 0);
}

static void run_op(struct world *w, struct input *in)
{
    uint8_t b = get8(in);
    unsigned i = (unsigned)(b >> 5) % w->count;
    struct vlapic *a = &w->apic[i];
    uint64_t v;
    switch ((b & 0x1f) % OP_COUNT) {
    case OP_REG_READ:
        op_reg_read(w, i, get8(in));
        break;
    case OP_REG_WRITE:
        op_reg_write(w, i, in);
        break;
    case OP_MMIO:
        op_mmio(w, i, in);
        break;
    case OP_MSR_READ:
        msr_read_checked(a, VLAPIC_MSR_X2APIC_FIRST + get8(in), &v);
        break;
    case OP_MSR_WRITE: {
        uint32_t msr = VLAPIC_MSR_X2APIC_FIRST + get8(in);
        v = get8(in) & 1 ? get64(in) : get32(in);
        msr_write_checked(w, i, msr, v);
        break;
    }
    case OP_TSC_DEADLINE:
        op_tsc_deadline(w, i, in);
        break;
    case OP_BASE:
        op_base(w, i, in);
        break;
    case OP_ADVANCE:
        op_advance(w, in);
        break;
    case OP_POLL:
        poll_checked(w, i);
        break;
    case OP_ACCEPT:
        op_accept(w, i, in);
        break;
    case OP_ROUTE: {
        struct vlapic_irq irq;
        get_irq(w, in, &irq);
        route_checked(w, &irq);
        break;
    }
    case OP_MSI:
        op_msi(w, in);
        break;
    case OP_ACK:
        op_ack(w, i);
        break;
    case OP_TAKE:
        op_take(w, i, get8(in));
        break;
    case OP_INIT_SIGNAL:
        op_init_signal(w, i);
        break;
    case OP_LINT: {
        unsigned pin = get8(in);
        vlapic_lint(a, pin, get8(in) & 1);
        break;
    }
    case OP_SET_TPR:
        vlapic_set_tpr(a, get8(in));
        break;
    case OP_EOI:
        op_eoi(w, i);
        break;
    default:
        vlapic_set_virtual_wire(a);
        break;
    }
}

static const uint64_t khz_table[7] = {0, 1000000, 2000000, 2893437, 3579545, 1, 100000000};

static void setup(struct world *w, struct input *in)
{
    uint8_t h = get8(in);
    memset(w, 0, sizeof(*w));
    w->count = 2 + (h & 3) % 3;
    w->now = START_NS;
    w->tsc0 = (uint64_t)get8(in) << 28;
    unsigned ids = (h >> 2) & 3, k = (h >> 4) & 7;
    uint64_t khz = k < 7 ? khz_table[k] : get32(in);
    w->khz = khz ? khz : NS_PER_MS; /* 0: the LAPIC takes 1 GHz */
    for (unsigned i = 0; i < w->count; i++) {
        static const uint32_t first[3] = {0, 0xfe, 15};
        uint32_t id = ids == 3 ? get32(in) : ids == 2 ? first[2] + 16 * i : first[ids] + i;
        struct cpu *c = &w->cpu[i];
        c->w = w;
        c->index = i;
        struct vlapic_env env = {
            .ctx = c,
            .now_ns = env_now,
            .read_tsc = env_tsc,
            .tsc_khz = khz,
            .timer_arm = env_arm,
            .timer_cancel = env_cancel,
            .send_ipi = env_send_ipi,
            .eoi_level = env_eoi_level,
        };
        vlapic_init(&w->apic[i], id, i == 0, &env);
        w->apics[i] = &w->apic[i];
    }
    if (h & 0x80)
        vlapic_set_virtual_wire(&w->apic[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct world w;
    struct input in = {data, size};
    setup(&w, &in);
    check_all(&w);
    while (in.n > 0) {
        run_op(&w, &in);
        check_all(&w);
    }
    return 0;
}
