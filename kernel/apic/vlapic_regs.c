/*
 * Register access of the virtual LAPIC (SDM Vol. 3A 11.4.1 table 11-1,
 * 11.12.1.2 table 11-6): the xAPIC page through MMIO, the x2APIC MSRs and
 * IA32_TSC_DEADLINE, and the registers whose writes do something (ICR,
 * SELF IPI, SVR, LVT, ESR, EOI, timer). Owner only.
 */
#include "apic/vlapic_internal.h"

/* Writable bits (SDM 11.5.1 figure 11-8, 11.6.1 figure 11-12, 11.9 figure
 * 11-23). Delivery status (bit 12) always reads 0: Keel delivers at once. */
#define LVT_TIMER_WRITABLE   (0xffu | VLAPIC_LVT_MASKED | (3u << VLAPIC_LVT_TIMER_SHIFT))
#define LVT_SENSOR_WRITABLE  (0xffu | VLAPIC_LVT_DM_MASK | VLAPIC_LVT_MASKED) /* thermal, perf */
#define LVT_POLARITY         (1u << 13)
#define LVT_LINT_WRITABLE    (LVT_SENSOR_WRITABLE | LVT_POLARITY | VLAPIC_LVT_LEVEL)
#define LVT_ERROR_WRITABLE   (0xffu | VLAPIC_LVT_MASKED)
#define LVT_DELIVERY_STATUS  (1u << 12)
#define TPR_WRITABLE         0xffu
#define SVR_WRITABLE         0x3ffu /* vector, enable, focus check (bit 9, no effect; as KVM) */
#define LDR_XAPIC_WRITABLE   0xff000000u /* logical APIC ID, bits 31:24 (SDM 11.6.2.2) */
#define DFR_MODEL_MASK       0xf0000000u /* bits 27:0 read as 1 (SDM 11.6.2.2) */
#define DIV_DEFINED          0xbu        /* bits 0, 1, 3 (SDM 11.5.4 figure 11-10) */
#define ICR_LO_WRITABLE      0x000ccfffu /* vector, DM, dest mode, level, trigger, shorthand */
#define ICR_HI_XAPIC_DEST    0xff000000u /* destination, bits 63:56 (SDM 11.6.1) */
#define ICR_XAPIC_DEST_SHIFT 24
#define ICR_X2APIC_RESERVED  0x00000000fff32000ull /* bits 13, 17:16, 31:20 (SDM 11.12.9) */
#define ICR_VECTOR           0xffu
#define ICR_DM_SHIFT         8
#define ICR_DM_MASK          7u
#define ICR_LOGICAL          (1u << 11)
#define ICR_ASSERT           (1u << 14)
#define ICR_LEVEL            (1u << 15)
#define ICR_SH_SHIFT         18
#define ICR_SH_MASK          3u
#define X2APIC_HIGH_RESERVED 0xffffffff00000000ull /* all but the ICR (SDM 11.12.1.2) */
#define X2APIC_MSR_SHIFT     4  /* MSR 0x800 + n is offset n << 4 (SDM 11.12.1.2) */
#define XAPIC_ID_SHIFT       24 /* xAPIC ID in bits 31:24 (SDM 11.4.6) */

/* ---- register writes with side effects ---- */

/* Sends an IPI (SDM 11.6.1): lo is ICR bits 31:0, dest the destination
 * field. A fixed/lowest vector < 16 latches "send illegal vector" and is not
 * sent; INIT level de-assert is a no-op (SDM 11.6.1); SMI (no SMM) and the
 * reserved modes are dropped. The self shorthand is delivered here, without
 * env.send_ipi, whatever its delivery mode (as KVM). */
static void icr_send(struct vlapic *a, uint32_t lo, uint32_t dest)
{
    struct vlapic_irq irq = {
        .vector = (uint8_t)(lo & ICR_VECTOR),
        .delivery_mode = (uint8_t)((lo >> ICR_DM_SHIFT) & ICR_DM_MASK),
        .logical = lo & ICR_LOGICAL,
        .level_trigger = lo & ICR_LEVEL,
        .assert = lo & ICR_ASSERT,
        .shorthand = (uint8_t)((lo >> ICR_SH_SHIFT) & ICR_SH_MASK),
        .dest = dest,
        .x2apic_format = vlapic_x2apic_mode(a),
        .source = a,
    };
    uint8_t dm = irq.delivery_mode;
    bool fixed = dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST;
    if (fixed && irq.vector < FIRST_VALID_VECTOR) {
        vlapic_esr_error(a, VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
        return;
    }
    if ((dm == APIC_DM_INIT && irq.level_trigger && !irq.assert) ||
        (!fixed && dm != APIC_DM_NMI && dm != APIC_DM_INIT && dm != APIC_DM_STARTUP))
        return;
    vlapic_count(&a->counters.ipis_sent);
    if (irq.shorthand == APIC_SH_SELF)
        vlapic_accept(a, &irq);
    else
        a->env.send_ipi(a->env.ctx, &irq);
}

/* SVR (SDM 11.9): clearing the enable bit masks every LVT (SDM 11.4.7.2). */
static void svr_write(struct vlapic *a, uint32_t value)
{
    vlapic_timer_poll(a);
    reg_set(a, VLAPIC_REG_SVR, value & SVR_WRITABLE);
    if (value & VLAPIC_SVR_ENABLE)
        return;
    for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += VEC_REG_STRIDE)
        reg_set(a, off, reg_get(a, off) | VLAPIC_LVT_MASKED);
    vlapic_timer_sync(a);
}

static uint32_t lvt_writable(uint32_t off)
{
    switch (off) {
    case VLAPIC_REG_LVT_TIMER:
        return LVT_TIMER_WRITABLE;
    case VLAPIC_REG_LVT_LINT0:
    case VLAPIC_REG_LVT_LINT1:
        return LVT_LINT_WRITABLE;
    case VLAPIC_REG_LVT_ERROR:
        return LVT_ERROR_WRITABLE;
    default:
        return LVT_SENSOR_WRITABLE;
    }
}

/* Software-disabled: the mask bit cannot be cleared (SDM 11.4.7.2). LINT0's
 * Remote IRR is read-only and survives while the entry stays level. */
static void lvt_write(struct vlapic *a, uint32_t off, uint32_t value)
{
    value &= lvt_writable(off);
    if (!vlapic_sw_enabled(a))
        value |= VLAPIC_LVT_MASKED;
    if (off == VLAPIC_REG_LVT_TIMER) {
        vlapic_timer_lvt_write(a, value);
        return;
    }
    if (off == VLAPIC_REG_LVT_LINT0 && (value & VLAPIC_LVT_LEVEL))
        value |= reg_get(a, off) & VLAPIC_LVT_REMOTE_IRR;
    reg_set(a, off, value);
    if (off == VLAPIC_REG_LVT_LINT0)
        vlapic_lint_level_update(a);
}

/* ---- register access by offset, both modes (SDM tables 11-1, 11-6) ---- */

static bool is_vec_reg(uint32_t off)
{
    return off >= VLAPIC_REG_ISR && off < VLAPIC_REG_IRR + 8 * VEC_REG_STRIDE;
}

/* off is 16-byte aligned. REG_RESERVED: no such register in this mode (or
 * write-only in x2APIC mode); *out is 0 then. */
static enum reg_status reg_read(struct vlapic *a, uint32_t off, uint32_t *out)
{
    bool x2 = vlapic_x2apic_mode(a);
    *out = 0;
    if (is_vec_reg(off) || is_lvt(off)) {
        *out = reg_get(a, off);
        return REG_OK;
    }
    switch (off) {
    case VLAPIC_REG_ID: /* xAPIC: ID in bits 31:24 (SDM 11.4.6); x2APIC: 32 bits */
        *out = x2 ? a->apic_id : a->apic_id << XAPIC_ID_SHIFT;
        return REG_OK;
    case VLAPIC_REG_VERSION:
        *out = VLAPIC_VERSION_VALUE;
        return REG_OK;
    case VLAPIC_REG_PPR:
        *out = vlapic_ppr(a);
        return REG_OK;
    case VLAPIC_REG_TIMER_CUR:
        *out = vlapic_timer_current(a);
        return REG_OK;
    case VLAPIC_REG_TPR:
    case VLAPIC_REG_LDR:
    case VLAPIC_REG_SVR:
    case VLAPIC_REG_ESR:
    case VLAPIC_REG_ICR_LO:
    case VLAPIC_REG_TIMER_INIT:
    case VLAPIC_REG_TIMER_DIV:
        *out = reg_get(a, off);
        return REG_OK;
    case VLAPIC_REG_DFR:
    case VLAPIC_REG_ICR_HI:
        if (x2)
            return REG_RESERVED;
        *out = reg_get(a, off);
        return REG_OK;
    case VLAPIC_REG_APR: /* reads 0 (as KVM) */
    case VLAPIC_REG_EOI: /* write-only */
    case VLAPIC_REG_RRD: /* remote read is not supported: 0 */
        return x2 ? REG_RESERVED : REG_OK;
    default: /* includes SELF_IPI (write-only, x2APIC only) and CMCI (absent) */
        return REG_RESERVED;
    }
}

/* value already checked for x2APIC reserved bits. */
static enum reg_status reg_write(struct vlapic *a, uint32_t off, uint32_t value)
{
    bool x2 = vlapic_x2apic_mode(a);
    if (is_lvt(off)) {
        lvt_write(a, off, value);
        return REG_OK;
    }
    switch (off) {
    case VLAPIC_REG_TPR:
        reg_set(a, off, value & TPR_WRITABLE);
        return REG_OK;
    case VLAPIC_REG_EOI:
        vlapic_eoi(a);
        return REG_OK;
    case VLAPIC_REG_LDR: /* x2APIC: derived, read-only (SDM 11.12.10.2) */
        if (x2)
            return REG_READ_ONLY;
        reg_set(a, off, value & LDR_XAPIC_WRITABLE);
        return REG_OK;
    case VLAPIC_REG_DFR: /* xAPIC only */
        if (x2)
            return REG_RESERVED;
        reg_set(a, off, (value & DFR_MODEL_MASK) | ~DFR_MODEL_MASK);
        return REG_OK;
    case VLAPIC_REG_SVR:
        svr_write(a, value);
        return REG_OK;
    case VLAPIC_REG_ESR: /* publish the latched errors, clear the latch (SDM 11.5.3) */
        reg_set(a, off, __atomic_exchange_n(&a->esr_latch, 0, __ATOMIC_RELAXED));
        return REG_OK;
    case VLAPIC_REG_ICR_LO: /* x2APIC: the 64-bit MSR, see vlapic_msr_write */
        if (x2)
            return REG_RESERVED;
        reg_set(a, off, value & ICR_LO_WRITABLE);
        icr_send(a, value, reg_get(a, VLAPIC_REG_ICR_HI) >> ICR_XAPIC_DEST_SHIFT);
        return REG_OK;
    case VLAPIC_REG_ICR_HI:
        if (x2)
            return REG_RESERVED;
        reg_set(a, off, value & ICR_HI_XAPIC_DEST);
        return REG_OK;
    case VLAPIC_REG_TIMER_INIT:
        vlapic_timer_set_initial(a, value);
        return REG_OK;
    case VLAPIC_REG_TIMER_DIV:
        vlapic_timer_set_divide(a, value);
        return REG_OK;
    case VLAPIC_REG_SELF_IPI: /* x2APIC only (SDM 11.12.11): a fixed self IPI */
        if (!x2)
            return REG_RESERVED;
        icr_send(a, (value & ICR_VECTOR) | (APIC_SH_SELF << ICR_SH_SHIFT), 0);
        return REG_OK;
    case VLAPIC_REG_ID: /* read-only in Keel (IDs are fixed at creation) */
    case VLAPIC_REG_VERSION:
    case VLAPIC_REG_PPR:
    case VLAPIC_REG_TIMER_CUR:
        return REG_READ_ONLY;
    case VLAPIC_REG_APR:
    case VLAPIC_REG_RRD:
        return x2 ? REG_RESERVED : REG_READ_ONLY;
    default:
        return is_vec_reg(off) ? REG_READ_ONLY : REG_RESERVED;
    }
}

/* ---- xAPIC MMIO ---- */

static bool mmio_access_ok(const struct vlapic *a, uint32_t offset, unsigned size)
{
    return xapic_mode(a) && offset < VLAPIC_PAGE_SIZE &&
           (size == 1 || size == 2 || size == 4 || size == 8);
}

static bool mmio_is_register(uint32_t offset, unsigned size)
{
    return size == 4 && (offset & (VEC_REG_STRIDE - 1)) == 0;
}

bool vlapic_mmio_read(struct vlapic *a, uint32_t offset, unsigned size, uint64_t *value)
{
    uint32_t v;
    if (!mmio_access_ok(a, offset, size))
        return false;
    if (mmio_is_register(offset, size)) {
        if (reg_read(a, offset, &v) == REG_RESERVED)
            vlapic_esr_error(a, VLAPIC_ESR_ILLEGAL_REGISTER);
        *value = v;
        return true;
    }
    /* Odd size or alignment: the bytes of the registers it covers, no error. */
    uint64_t result = 0;
    uint32_t slot = UINT32_MAX;
    for (unsigned i = 0; i < size && offset + i < VLAPIC_PAGE_SIZE; i++) {
        uint32_t off = offset + i;
        if ((off & (VEC_REG_STRIDE - 1)) >= 4)
            continue;
        if ((off & ~(VEC_REG_STRIDE - 1)) != slot) {
            slot = off & ~(VEC_REG_STRIDE - 1);
            reg_read(a, slot, &v);
        }
        result |= (uint64_t)((v >> (8 * (off & 3))) & 0xffu) << (8 * i);
    }
    *value = result;
    return true;
}

bool vlapic_mmio_write(struct vlapic *a, uint32_t offset, unsigned size, uint64_t value)
{
    if (!mmio_access_ok(a, offset, size))
        return false;
    if (mmio_is_register(offset, size) && reg_write(a, offset, (uint32_t)value) == REG_RESERVED)
        vlapic_esr_error(a, VLAPIC_ESR_ILLEGAL_REGISTER);
    return true;
}

/* ---- x2APIC MSRs (SDM 11.12.1) and IA32_TSC_DEADLINE ---- */

/* Bits a WRMSR may set; others are reserved and #GP (SDM 11.12.1.3).
 * Read-only bits (delivery status, Remote IRR) are allowed: they read back. */
static uint32_t x2apic_defined_bits(uint32_t off)
{
    switch (off) {
    case VLAPIC_REG_TPR:
        return TPR_WRITABLE;
    case VLAPIC_REG_SELF_IPI:
        return ICR_VECTOR;
    case VLAPIC_REG_EOI: /* WRMSR of a non-zero value #GPs (SDM table 11-6) */
    case VLAPIC_REG_ESR:
        return 0;
    case VLAPIC_REG_SVR:
        return SVR_WRITABLE;
    case VLAPIC_REG_LVT_LINT0:
    case VLAPIC_REG_LVT_LINT1:
        return LVT_LINT_WRITABLE | LVT_DELIVERY_STATUS | VLAPIC_LVT_REMOTE_IRR;
    case VLAPIC_REG_TIMER_DIV:
        return DIV_DEFINED;
    default:
        return is_lvt(off) ? lvt_writable(off) | LVT_DELIVERY_STATUS : 0xffffffffu;
    }
}

static bool is_x2apic_msr(const struct vlapic *a, uint32_t msr)
{
    return vlapic_x2apic_mode(a) && msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST;
}

bool vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *value)
{
    if (msr == VLAPIC_MSR_TSC_DEADLINE) { /* 0 outside TSC-deadline mode and once fired */
        *value = vlapic_tsc_deadline_read(a);
        return true;
    }
    if (!is_x2apic_msr(a, msr))
        return false;
    uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) << X2APIC_MSR_SHIFT, v;
    if (off == VLAPIC_REG_ICR_LO) {
        *value = reg_get(a, VLAPIC_REG_ICR_LO) | (uint64_t)reg_get(a, VLAPIC_REG_ICR_HI) << 32;
        return true;
    }
    if (reg_read(a, off, &v) != REG_OK)
        return false;
    *value = v;
    return true;
}

bool vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t value)
{
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        vlapic_tsc_deadline_write(a, value);
        return true;
    }
    if (!is_x2apic_msr(a, msr))
        return false;
    uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) << X2APIC_MSR_SHIFT;
    if (off == VLAPIC_REG_ICR_LO) { /* one 64-bit write sends (SDM 11.12.9) */
        if (value & ICR_X2APIC_RESERVED)
            return false;
        reg_set(a, VLAPIC_REG_ICR_LO, (uint32_t)value & ICR_LO_WRITABLE);
        reg_set(a, VLAPIC_REG_ICR_HI, (uint32_t)(value >> 32));
        icr_send(a, (uint32_t)value, (uint32_t)(value >> 32));
        return true;
    }
    if ((value & X2APIC_HIGH_RESERVED) || ((uint32_t)value & ~x2apic_defined_bits(off)))
        return false;
    return reg_write(a, off, (uint32_t)value) == REG_OK;
}
