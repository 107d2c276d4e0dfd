/*
 * The virtual local APIC of one vCPU (SDM Vol. 3A chapter 11): state,
 * interrupt priorities, acceptance and acknowledgement, EOI, LINT inputs,
 * reset and IA32_APIC_BASE. See vlapic.h for the contract and the locking
 * rules; the timer is in vlapic_timer.c, register access in vlapic_regs.c,
 * routing between LAPICs in vlapic_route.c.
 */
#include "apic/vlapic_internal.h"
#include "kstring.h"

#define VECTORS_PER_WORD     32u
#define VEC_WORDS            8u /* 256 vectors in 8 registers of ISR/TMR/IRR (SDM 11.8.4) */
#define PRIO_CLASS(v)        ((uint8_t)((v)&0xf0u)) /* priority class: bits 7:4 (SDM 11.8.3) */
#define SIPI_VECTOR_MASK     0xffu
#define SVR_RESET            0xffu /* software-disabled, spurious vector 0xff (SDM 11.4.7.1) */
#define DFR_RESET            0xffffffffu
#define X2APIC_CLUSTER_SHIFT 4 /* logical x2APIC ID (SDM 11.12.10.2) */
#define X2APIC_LDR_CLUSTER   16
#define X2APIC_CLUSTER_BITS  0xfu

/* IA32_APIC_BASE: base address bits 12..MAXPHYADDR-1 (SDM 11.4.4). Keel
 * takes MAXPHYADDR 46 for the reserved-bit check (lenient when the guest's
 * CPUID reports fewer bits). */
#define MAXPHYADDR     46
#define BASE_ADDR_MASK (((1ull << MAXPHYADDR) - 1) & ~(uint64_t)(VLAPIC_PAGE_SIZE - 1))
#define BASE_WRITABLE  (BASE_ADDR_MASK | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD | VLAPIC_BASE_BSP)

/* ---- vector bitmaps and state ---- */
static uint32_t *vec_word(struct vlapic *a, uint32_t base, uint8_t v)
{
    return &a->regs[(base + (v / VECTORS_PER_WORD) * VEC_REG_STRIDE) >> 2];
}

static bool vec_test(const struct vlapic *a, uint32_t base, uint8_t v)
{
    return (reg_get(a, base + (v / VECTORS_PER_WORD) * VEC_REG_STRIDE) >> (v % VECTORS_PER_WORD)) &
           1u;
}

/* Returns whether the bit was already set. */
static bool vec_set(struct vlapic *a, uint32_t base, uint8_t v)
{
    uint32_t bit = 1u << (v % VECTORS_PER_WORD);
    return __atomic_fetch_or(vec_word(a, base, v), bit, __ATOMIC_SEQ_CST) & bit;
}

static void vec_clear(struct vlapic *a, uint32_t base, uint8_t v)
{
    __atomic_fetch_and(vec_word(a, base, v), ~(1u << (v % VECTORS_PER_WORD)), __ATOMIC_SEQ_CST);
}

/* The highest vector set in an ISR/TMR/IRR bitmap, or -1. */
static int vec_highest(const struct vlapic *a, uint32_t base)
{
    for (int w = VEC_WORDS - 1; w >= 0; w--) {
        uint32_t bits = reg_get(a, base + (uint32_t)w * VEC_REG_STRIDE);
        if (bits != 0)
            return w * (int)VECTORS_PER_WORD + 31 - __builtin_clz(bits);
    }
    return -1;
}

bool vlapic_hw_enabled(const struct vlapic *a)
{
    return base_get(a) & VLAPIC_BASE_EN;
}

bool vlapic_x2apic_mode(const struct vlapic *a)
{
    return (base_get(a) & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) ==
           (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

bool vlapic_sw_enabled(const struct vlapic *a)
{
    return reg_get(a, VLAPIC_REG_SVR) & VLAPIC_SVR_ENABLE;
}

uint32_t vlapic_ldr(const struct vlapic *a)
{
    return reg_get(a, VLAPIC_REG_LDR);
}

uint32_t vlapic_dfr(const struct vlapic *a)
{
    return reg_get(a, VLAPIC_REG_DFR);
}

uint32_t vlapic_id(const struct vlapic *a)
{
    return a->apic_id;
}

/* The logical x2APIC ID: cluster id >> 4 in bits 31:16, bit id & 15 set in
 * bits 15:0 (SDM 11.12.10.2). */
static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> X2APIC_CLUSTER_SHIFT) << X2APIC_LDR_CLUSTER) |
           (1u << (id & X2APIC_CLUSTER_BITS));
}

/* ---- priorities (SDM 11.8.3.1, 11.6.2.4) ---- */

uint8_t vlapic_ppr(const struct vlapic *a)
{
    uint8_t tpr = (uint8_t)reg_get(a, VLAPIC_REG_TPR);
    int isrv = vec_highest(a, VLAPIC_REG_ISR);
    uint8_t isr_class = isrv < 0 ? 0 : PRIO_CLASS(isrv);
    return PRIO_CLASS(tpr) >= isr_class ? tpr : isr_class;
}

uint8_t vlapic_arbitration_priority(const struct vlapic *a)
{
    uint8_t tpr = (uint8_t)reg_get(a, VLAPIC_REG_TPR);
    int isrv = vec_highest(a, VLAPIC_REG_ISR), irrv = vec_highest(a, VLAPIC_REG_IRR);
    uint8_t isr_class = isrv < 0 ? 0 : PRIO_CLASS(isrv),
            irr_class = irrv < 0 ? 0 : PRIO_CLASS(irrv);
    if (PRIO_CLASS(tpr) >= irr_class && PRIO_CLASS(tpr) > isr_class)
        return tpr;
    uint8_t apr = PRIO_CLASS(tpr);
    apr = isr_class > apr ? isr_class : apr;
    return irr_class > apr ? irr_class : apr;
}

int vlapic_pending_vector(const struct vlapic *a)
{
    if (!vlapic_hw_enabled(a))
        return -1;
    int irrv = vec_highest(a, VLAPIC_REG_IRR);
    if (irrv < 0 || PRIO_CLASS(irrv) <= PRIO_CLASS(vlapic_ppr(a)))
        return -1;
    return irrv;
}

uint8_t vlapic_tpr(const struct vlapic *a)
{
    return (uint8_t)reg_get(a, VLAPIC_REG_TPR);
}

void vlapic_set_tpr(struct vlapic *a, uint8_t tpr)
{
    reg_set(a, VLAPIC_REG_TPR, tpr);
}

/* ---- acceptance (SDM 11.8.4) and errors (SDM 11.5.3) ---- */

/* Latches error bits and raises the LVT error interrupt if unmasked. */
bool vlapic_esr_error(struct vlapic *a, uint32_t bits)
{
    __atomic_fetch_or(&a->esr_latch, bits, __ATOMIC_RELAXED);
    uint32_t lvt = reg_get(a, VLAPIC_REG_LVT_ERROR);
    uint8_t vector = (uint8_t)(lvt & VLAPIC_LVT_VECTOR);
    if ((lvt & VLAPIC_LVT_MASKED) || vector < FIRST_VALID_VECTOR)
        return false; /* an illegal error vector must not report itself again */
    return vlapic_accept_fixed(a, vector, false);
}

/* Fixed interrupt into IRR; TMR set for level, cleared for edge (SDM 11.8.4).
 * Returns whether the IRR bit is new. */
bool vlapic_accept_fixed(struct vlapic *a, uint8_t vector, bool level)
{
    if (vector < FIRST_VALID_VECTOR)
        return vlapic_esr_error(a, VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
    if (level)
        vec_set(a, VLAPIC_REG_TMR, vector);
    else
        vec_clear(a, VLAPIC_REG_TMR, vector);
    return !vec_set(a, VLAPIC_REG_IRR, vector);
}

static bool set_flag(uint8_t *flag, uint64_t *counter)
{
    vlapic_count(counter);
    return __atomic_exchange_n(flag, 1, __ATOMIC_SEQ_CST) == 0;
}

bool vlapic_accept(struct vlapic *a, const struct vlapic_irq *irq)
{
    bool deassert = irq->level_trigger && !irq->assert;
    if (!vlapic_hw_enabled(a) || deassert)
        return false;
    bool fixed = irq->delivery_mode == APIC_DM_FIXED || irq->delivery_mode == APIC_DM_LOWEST;
    bool known = irq->delivery_mode == APIC_DM_NMI || irq->delivery_mode == APIC_DM_INIT ||
                 irq->delivery_mode == APIC_DM_STARTUP;
    if ((fixed && !vlapic_sw_enabled(a)) || (!fixed && !known))
        return false;
    if (irq->source != NULL)
        vlapic_count(&a->counters.ipis_received);
    switch (irq->delivery_mode) {
    case APIC_DM_NMI:
        return set_flag(&a->nmi_pending, &a->counters.nmis);
    case APIC_DM_INIT:
        /* A start-up IPI that came before the INIT is void: an AP only
         * heeds one while it waits after an INIT (SDM Vol. 3A 9.4.4). */
        __atomic_store_n(&a->sipi_pending, 0, __ATOMIC_SEQ_CST);
        return set_flag(&a->init_pending, &a->counters.inits);
    case APIC_DM_STARTUP:
        vlapic_count(&a->counters.sipis);
        __atomic_store_n(&a->sipi_pending, VLAPIC_SIPI_PENDING | irq->vector, __ATOMIC_SEQ_CST);
        return true;
    default:
        return vlapic_accept_fixed(a, irq->vector, irq->level_trigger);
    }
}

void vlapic_ack(struct vlapic *a, uint8_t vector)
{
    vec_clear(a, VLAPIC_REG_IRR, vector);
    vec_set(a, VLAPIC_REG_ISR, vector);
}

bool vlapic_take_nmi(struct vlapic *a)
{
    return __atomic_exchange_n(&a->nmi_pending, 0, __ATOMIC_SEQ_CST) != 0;
}

bool vlapic_take_init(struct vlapic *a)
{
    return __atomic_exchange_n(&a->init_pending, 0, __ATOMIC_SEQ_CST) != 0;
}

int vlapic_take_sipi(struct vlapic *a)
{
    uint32_t s = __atomic_exchange_n(&a->sipi_pending, 0, __ATOMIC_SEQ_CST);
    return s ? (int)(s & SIPI_VECTOR_MASK) : -1;
}

bool vlapic_has_event(const struct vlapic *a)
{
    return vlapic_pending_vector(a) >= 0 || __atomic_load_n(&a->nmi_pending, __ATOMIC_SEQ_CST) ||
           __atomic_load_n(&a->init_pending, __ATOMIC_SEQ_CST) ||
           __atomic_load_n(&a->sipi_pending, __ATOMIC_SEQ_CST);
}

bool vlapic_accepts_extint(const struct vlapic *a)
{
    uint32_t lint0 = reg_get(a, VLAPIC_REG_LVT_LINT0);
    return !vlapic_hw_enabled(a) ||
           (!(lint0 & VLAPIC_LVT_MASKED) &&
            (lint0 & VLAPIC_LVT_DM_MASK) >> VLAPIC_LVT_DM_SHIFT == APIC_DM_EXTINT);
}

const struct vlapic_counters *vlapic_counters(const struct vlapic *a)
{
    return &a->counters;
}

/* ---- LINT0/LINT1 (SDM 11.5.1) ---- */

static uint32_t lint_reg(unsigned pin)
{
    return pin == 0 ? VLAPIC_REG_LVT_LINT0 : VLAPIC_REG_LVT_LINT1;
}

/* LINT0 level-triggered fixed: delivered while asserted, once per Remote IRR
 * (set on delivery, cleared by the EOI of its vector). LINT1 is always edge. */
static bool lint_is_level_fixed(uint32_t lvt, unsigned pin)
{
    return pin == 0 && (lvt & VLAPIC_LVT_LEVEL) && !(lvt & VLAPIC_LVT_MASKED) &&
           (lvt & VLAPIC_LVT_DM_MASK) == (APIC_DM_FIXED << VLAPIC_LVT_DM_SHIFT);
}

void vlapic_lint_level_update(struct vlapic *a)
{
    uint32_t lvt = reg_get(a, VLAPIC_REG_LVT_LINT0);
    if (!lint_is_level_fixed(lvt, 0) || !a->lint_level[0] || (lvt & VLAPIC_LVT_REMOTE_IRR))
        return;
    reg_set(a, VLAPIC_REG_LVT_LINT0, lvt | VLAPIC_LVT_REMOTE_IRR);
    vlapic_accept_fixed(a, (uint8_t)(lvt & VLAPIC_LVT_VECTOR), true);
}

void vlapic_lint(struct vlapic *a, unsigned pin, bool level)
{
    if (pin > 1)
        return;
    bool rising = level && !a->lint_level[pin];
    a->lint_level[pin] = level;
    if (!vlapic_hw_enabled(a)) { /* no APIC: LINT1 is the NMI pin (SDM 11.4.3) */
        if (pin == 1 && rising)
            set_flag(&a->nmi_pending, &a->counters.nmis);
        return;
    }
    uint32_t lvt = reg_get(a, lint_reg(pin));
    if (lvt & VLAPIC_LVT_MASKED)
        return;
    if (lint_is_level_fixed(lvt, pin)) {
        vlapic_lint_level_update(a);
        return;
    }
    if (!rising)
        return;
    switch ((lvt & VLAPIC_LVT_DM_MASK) >> VLAPIC_LVT_DM_SHIFT) {
    case APIC_DM_FIXED:
        vlapic_accept_fixed(a, (uint8_t)(lvt & VLAPIC_LVT_VECTOR), false);
        break;
    case APIC_DM_NMI:
        set_flag(&a->nmi_pending, &a->counters.nmis);
        break;
    case APIC_DM_INIT:
        set_flag(&a->init_pending, &a->counters.inits);
        break;
    default: /* ExtINT comes through the core with its vector; no SMM */
        break;
    }
}

/* lint_request: bit pin the requested level, bit 4 + pin a rise since the
 * owner last looked, VLAPIC_LINT_CHANGED anything to apply. */
#define LINT_ROSE_SHIFT 4

void vlapic_request_lint(struct vlapic *a, unsigned pin, bool level)
{
    if (pin > 1)
        return;
    uint32_t bit = 1u << pin;
    if (level) { /* a rise only from a low requested level: one atomic step */
        uint32_t old = __atomic_load_n(&a->lint_request, __ATOMIC_RELAXED), new;
        do {
            new = old | bit | VLAPIC_LINT_CHANGED | ((old & bit) ? 0 : bit << LINT_ROSE_SHIFT);
        } while (!__atomic_compare_exchange_n(&a->lint_request, &old, new, false, __ATOMIC_SEQ_CST,
                                              __ATOMIC_RELAXED));
        return;
    }
    /* The level first, then the flag: the owner never takes the flag and
     * misses the new level. */
    __atomic_fetch_and(&a->lint_request, ~bit, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&a->lint_request, VLAPIC_LINT_CHANGED, __ATOMIC_SEQ_CST);
}

void vlapic_apply_lint_requests(struct vlapic *a)
{
    uint32_t keep = 3u; /* the levels stay; the rises and the flag are taken */
    uint32_t r = __atomic_fetch_and(&a->lint_request, keep, __ATOMIC_SEQ_CST);
    if (!(r & VLAPIC_LINT_CHANGED))
        return;
    for (unsigned pin = 0; pin < 2; pin++) {
        if (r & (1u << (LINT_ROSE_SHIFT + pin))) { /* a rise, maybe undone since */
            vlapic_lint(a, pin, false);
            vlapic_lint(a, pin, true);
        }
        vlapic_lint(a, pin, r & (1u << pin));
    }
}

/* EOI (SDM 11.8.5): clears the highest ISR bit; a level-triggered vector
 * (TMR set) is reported to the IOAPIC and ends a LINT0 Remote IRR. */
void vlapic_eoi(struct vlapic *a)
{
    int v = vec_highest(a, VLAPIC_REG_ISR);
    if (v < 0)
        return;
    vec_clear(a, VLAPIC_REG_ISR, (uint8_t)v);
    if (!vec_test(a, VLAPIC_REG_TMR, (uint8_t)v))
        return;
    uint32_t lint0 = reg_get(a, VLAPIC_REG_LVT_LINT0);
    if ((lint0 & VLAPIC_LVT_REMOTE_IRR) && (lint0 & VLAPIC_LVT_VECTOR) == (uint32_t)v) {
        reg_set(a, VLAPIC_REG_LVT_LINT0, lint0 & ~VLAPIC_LVT_REMOTE_IRR);
        vlapic_lint_level_update(a);
    }
    if (a->env.eoi_level != NULL)
        a->env.eoi_level(a->env.ctx, (uint8_t)v);
}

/* ---- reset (SDM 11.4.7.1, 11.4.7.3, 11.12.5.1) ---- */

/* Power-on register and timer state; ID, base MSR, pending flags and the
 * LINT input levels (wires) are not touched. */
static void reset_registers(struct vlapic *a)
{
    for (uint32_t off = 0; off < VLAPIC_REG_END; off += 4)
        reg_set(a, off, 0);
    reg_set(a, VLAPIC_REG_DFR, DFR_RESET);
    reg_set(a, VLAPIC_REG_SVR, SVR_RESET);
    for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += VEC_REG_STRIDE)
        reg_set(a, off, VLAPIC_LVT_MASKED);
    if (vlapic_x2apic_mode(a))
        reg_set(a, VLAPIC_REG_LDR, x2apic_ldr(a->apic_id));
    __atomic_store_n(&a->esr_latch, 0, __ATOMIC_RELAXED);
    vlapic_timer_reset(a);
}

void vlapic_init(struct vlapic *a, uint32_t apic_id, bool bsp, const struct vlapic_env *env)
{
    memset(a, 0, sizeof(*a));
    a->env = *env;
    a->apic_id = apic_id;
    a->base_msr = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0);
    reset_registers(a);
}

void vlapic_init_signal(struct vlapic *a)
{
    reset_registers(a);
    __atomic_store_n(&a->nmi_pending, 0, __ATOMIC_SEQ_CST);
}

void vlapic_set_virtual_wire(struct vlapic *a)
{
    reg_set(a, VLAPIC_REG_LVT_LINT0, APIC_DM_EXTINT << VLAPIC_LVT_DM_SHIFT);
    reg_set(a, VLAPIC_REG_LVT_LINT1, APIC_DM_NMI << VLAPIC_LVT_DM_SHIFT);
}

/* ---- IA32_APIC_BASE (SDM 11.4.4, 11.12.5) ---- */

uint64_t vlapic_base_msr(const struct vlapic *a)
{
    return base_get(a);
}

/* Valid: disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled, and any
 * write that keeps the mode. #GP: reserved bits, EN=0 with EXTD=1, disabled
 * -> x2APIC, x2APIC -> xAPIC. A change of EN resets every register but the
 * ID (SDM 11.4.3: the APIC "may return to the state after power-up"), so a
 * re-enabled APIC starts software-disabled. */
bool vlapic_set_base_msr(struct vlapic *a, uint64_t value)
{
    uint64_t old = base_get(a);
    bool en = value & VLAPIC_BASE_EN, extd = value & VLAPIC_BASE_EXTD;
    bool was_en = old & VLAPIC_BASE_EN, was_x2 = vlapic_x2apic_mode(a);
    if ((value & ~BASE_WRITABLE) || (extd && !en) || (extd && !was_en) || (was_x2 && en && !extd))
        return false;
    value = (value & ~VLAPIC_BASE_BSP) | (old & VLAPIC_BASE_BSP);
    __atomic_store_n(&a->base_msr, value, __ATOMIC_RELAXED);
    if (en != was_en)
        reset_registers(a);
    else if (extd && !was_x2) /* the logical x2APIC ID is derived (SDM 11.12.5.1) */
        reg_set(a, VLAPIC_REG_LDR, x2apic_ldr(a->apic_id));
    return true;
}

bool vlapic_in_xapic_page(const struct vlapic *a, uint64_t gpa)
{
    return xapic_mode(a) &&
           (gpa & ~(uint64_t)(VLAPIC_PAGE_SIZE - 1)) == (base_get(a) & BASE_ADDR_MASK);
}
