/*
 * Host unit tests of the virtual local APIC (kernel/apic/vlapic*.c) with a
 * fake clock and environment that records timer_arm/cancel, send_ipi and
 * eoi_level calls. Expected values come from the Intel SDM Vol. 3A chapter
 * 11 (section numbers in the cases).
 */
#include <pthread.h>

#include "check.h"
#include "apic/vlapic.h"

struct fake {
    uint64_t now, tsc;
    unsigned arms, cancels, ipis, eois;
    uint64_t armed_at;
    struct vlapic_irq ipi;
    uint8_t eoi_vector;
};

static uint64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static uint64_t fake_tsc(void *ctx)
{
    return ((struct fake *)ctx)->tsc;
}

static void fake_arm(void *ctx, uint64_t deadline)
{
    struct fake *f = ctx;
    f->arms++;
    f->armed_at = deadline;
}

static void fake_cancel(void *ctx)
{
    ((struct fake *)ctx)->cancels++;
}

static void fake_send_ipi(void *ctx, const struct vlapic_irq *irq)
{
    struct fake *f = ctx;
    f->ipis++;
    f->ipi = *irq;
}

static void fake_eoi(void *ctx, uint8_t vector)
{
    struct fake *f = ctx;
    f->eois++;
    f->eoi_vector = vector;
}

#define TSC_KHZ 2000000ull /* 2 GHz: 2 ticks per ns */

static void setup(struct vlapic *a, struct fake *f, uint32_t id, bool bsp)
{
    memset(f, 0, sizeof(*f));
    f->now = 1000000;
    f->tsc = 5000000;
    struct vlapic_env env = {
        .ctx = f,
        .now_ns = fake_now,
        .read_tsc = fake_tsc,
        .tsc_khz = TSC_KHZ,
        .timer_arm = fake_arm,
        .timer_cancel = fake_cancel,
        .send_ipi = fake_send_ipi,
        .eoi_level = fake_eoi,
    };
    vlapic_init(a, id, bsp, &env);
}

static uint32_t rd(struct vlapic *a, uint32_t off)
{
    uint64_t v = 0xdeadbeef;
    CHECK(vlapic_mmio_read(a, off, 4, &v));
    return (uint32_t)v;
}

static void wr(struct vlapic *a, uint32_t off, uint32_t v)
{
    CHECK(vlapic_mmio_write(a, off, 4, v));
}

static uint64_t msr(struct vlapic *a, uint32_t index)
{
    uint64_t v = 0xdeadbeef;
    CHECK(vlapic_msr_read(a, index, &v));
    return v;
}

#define SVR_ON 0x1ffu
#define MASKED VLAPIC_LVT_MASKED

static void enable(struct vlapic *a)
{
    wr(a, VLAPIC_REG_SVR, SVR_ON);
}

static void to_x2apic(struct vlapic *a)
{
    uint64_t base = vlapic_base_msr(a);
    CHECK(vlapic_set_base_msr(a, base | VLAPIC_BASE_EXTD));
    CHECK(vlapic_x2apic_mode(a));
}

static bool irr_has(struct vlapic *a, uint8_t v)
{
    return (rd(a, VLAPIC_REG_IRR + (v / 32u) * 16u) >> (v % 32u)) & 1u;
}

static bool isr_has(struct vlapic *a, uint8_t v)
{
    return (rd(a, VLAPIC_REG_ISR + (v / 32u) * 16u) >> (v % 32u)) & 1u;
}

static bool tmr_has(struct vlapic *a, uint8_t v)
{
    return (rd(a, VLAPIC_REG_TMR + (v / 32u) * 16u) >> (v % 32u)) & 1u;
}

static struct vlapic_irq fixed_irq(uint8_t vector)
{
    struct vlapic_irq irq = {.vector = vector, .delivery_mode = APIC_DM_FIXED, .assert = true};
    return irq;
}

static bool accept_vec(struct vlapic *a, uint8_t vector)
{
    struct vlapic_irq irq = fixed_irq(vector);
    return vlapic_accept(a, &irq);
}

/* ---- registers and priorities ---- */

static void power_on_state(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 3, false);
    CHECK_EQ(vlapic_base_msr(&a), 0xfee00000ull | VLAPIC_BASE_EN);
    CHECK_EQ(rd(&a, VLAPIC_REG_ID), 3u << 24);
    CHECK_EQ(rd(&a, VLAPIC_REG_VERSION), 0x00050014u);
    CHECK_EQ(rd(&a, VLAPIC_REG_SVR), 0xffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_DFR), 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LDR), 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_TPR), 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_APR), 0);
    for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += 16)
        CHECK_EQ(rd(&a, off), MASKED);
    CHECK_EQ(vlapic_pending_vector(&a), -1);
    CHECK(!vlapic_has_event(&a));
    CHECK(!vlapic_accepts_extint(&a));
    CHECK(vlapic_in_xapic_page(&a, 0xfee00000));
    CHECK(vlapic_in_xapic_page(&a, 0xfee00ffc));
    CHECK(!vlapic_in_xapic_page(&a, 0xfee01000));
    CHECK(!vlapic_timer_armed(&a));
    CHECK_EQ(f.arms + f.cancels + f.ipis + f.eois, 0);
    struct vlapic b;
    setup(&b, &f, 0, true);
    CHECK_EQ(vlapic_base_msr(&b), 0xfee00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP);
    CHECK_EQ(vlapic_id(&b), 0);
}

/* ID is read-only in Keel; other read-only registers ignore xAPIC writes. */
static void read_only_registers(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 2, false);
    enable(&a);
    accept_vec(&a, 0x41);
    wr(&a, VLAPIC_REG_ID, 7u << 24);
    wr(&a, VLAPIC_REG_VERSION, 0);
    wr(&a, VLAPIC_REG_IRR + 0x20, 0);
    wr(&a, VLAPIC_REG_ISR + 0x20, 0xffffffffu);
    wr(&a, VLAPIC_REG_PPR, 0xff);
    CHECK_EQ(rd(&a, VLAPIC_REG_ID), 2u << 24);
    CHECK_EQ(rd(&a, VLAPIC_REG_VERSION), 0x00050014u);
    CHECK(irr_has(&a, 0x41));
    CHECK_EQ(rd(&a, VLAPIC_REG_ISR + 0x20), 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0);
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), 0); /* read-only is not "illegal register" */
}

/* SDM 11.8.3.1: PPR = TPR if TPR class >= ISRV class, else ISRV class. */
static void priority_and_nesting(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    CHECK(accept_vec(&a, 0x30));
    CHECK(accept_vec(&a, 0x40));
    CHECK(!accept_vec(&a, 0x40)); /* already pending */
    CHECK_EQ(vlapic_pending_vector(&a), 0x40);
    wr(&a, VLAPIC_REG_TPR, 0x40); /* same class: blocked */
    CHECK_EQ(vlapic_pending_vector(&a), -1);
    CHECK(!vlapic_has_event(&a));
    wr(&a, VLAPIC_REG_TPR, 0x3f);
    CHECK_EQ(vlapic_pending_vector(&a), 0x40);
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0x3f);
    vlapic_set_tpr(&a, 0);
    CHECK_EQ(vlapic_tpr(&a), 0);
    vlapic_ack(&a, 0x40);
    CHECK(!irr_has(&a, 0x40));
    CHECK(isr_has(&a, 0x40));
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0x40);
    wr(&a, VLAPIC_REG_TPR, 0x47); /* TPR class equal to ISRV's: PPR = TPR */
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0x47);
    wr(&a, VLAPIC_REG_TPR, 0);
    CHECK_EQ(vlapic_pending_vector(&a), -1); /* 0x30 is below the in-service class */
    CHECK(accept_vec(&a, 0x45));
    CHECK_EQ(vlapic_pending_vector(&a), -1); /* same class as the ISR */
    CHECK(accept_vec(&a, 0x51));
    CHECK_EQ(vlapic_pending_vector(&a), 0x51); /* nests */
    vlapic_ack(&a, 0x51);
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0x50);
    wr(&a, VLAPIC_REG_TPR, 0x62);
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0x62);
    wr(&a, VLAPIC_REG_TPR, 0);
    wr(&a, VLAPIC_REG_EOI, 0x1234); /* any value; clears the highest ISR bit */
    CHECK(!isr_has(&a, 0x51));
    CHECK(isr_has(&a, 0x40));
    CHECK_EQ(rd(&a, VLAPIC_REG_PPR), 0x40);
    wr(&a, VLAPIC_REG_EOI, 0);
    CHECK(!isr_has(&a, 0x40));
    CHECK_EQ(vlapic_pending_vector(&a), 0x45);
    wr(&a, VLAPIC_REG_EOI, 0); /* nothing in service: harmless */
    CHECK_EQ(f.eois, 0);
}

/* SDM 11.8.4/11.8.5: TMR set for level; its EOI is reported. */
static void eoi_level_on_tmr(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    struct vlapic_irq irq = fixed_irq(0x61);
    irq.level_trigger = true;
    CHECK(vlapic_accept(&a, &irq));
    CHECK(tmr_has(&a, 0x61));
    vlapic_ack(&a, 0x61);
    wr(&a, VLAPIC_REG_EOI, 0);
    CHECK_EQ(f.eois, 1);
    CHECK_EQ(f.eoi_vector, 0x61);
    CHECK(accept_vec(&a, 0x61)); /* edge now: TMR cleared */
    CHECK(!tmr_has(&a, 0x61));
    vlapic_ack(&a, 0x61);
    wr(&a, VLAPIC_REG_EOI, 0);
    CHECK_EQ(f.eois, 1);
    irq.assert = false; /* a level de-assert message is not an interrupt */
    CHECK(!vlapic_accept(&a, &irq));
    CHECK(!irr_has(&a, 0x61));
}

/* SDM 11.4.7.2: software-disabled masks the LVTs, refuses unmasking,
 * drops fixed interrupts, holds IRR, still takes NMI/INIT/SIPI. */
static void software_disable(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x700);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0x700u | MASKED);
    CHECK(!accept_vec(&a, 0x50));
    enable(&a);
    CHECK_EQ(rd(&a, VLAPIC_REG_SVR), SVR_ON);
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x700);
    wr(&a, VLAPIC_REG_LVT_ERROR, 0xfe);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0x700);
    CHECK(vlapic_accepts_extint(&a));
    CHECK(accept_vec(&a, 0x50));
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x31);
    wr(&a, VLAPIC_REG_TIMER_INIT, 10);
    f.now += 100; /* expired, not yet polled: delivered before the disable */
    wr(&a, VLAPIC_REG_SVR, 0xff);
    CHECK(irr_has(&a, 0x31));
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0x700u | MASKED);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_ERROR), 0xfeu | MASKED);
    CHECK(!vlapic_accepts_extint(&a));
    CHECK_EQ(vlapic_pending_vector(&a), 0x50); /* held */
    CHECK(!accept_vec(&a, 0x60));
    CHECK(!irr_has(&a, 0x60));
    struct vlapic_irq nmi = {.delivery_mode = APIC_DM_NMI, .assert = true};
    CHECK(vlapic_accept(&a, &nmi));
    CHECK(vlapic_take_nmi(&a));
}

/* LVT writable bits (SDM 11.5.1 figure 11-8); delivery status reads 0. */
static void lvt_writable_bits(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_TIMER), 0x000100ffu); /* mode 11b reserved: one-shot */
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x000200ffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_TIMER), 0x000200ffu);
    wr(&a, VLAPIC_REG_LVT_THERMAL, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_THERMAL), 0x000107ffu);
    wr(&a, VLAPIC_REG_LVT_PERF, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_PERF), 0x000107ffu);
    wr(&a, VLAPIC_REG_LVT_LINT0, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0x0001a7ffu);
    wr(&a, VLAPIC_REG_LVT_LINT1, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT1), 0x0001a7ffu);
    wr(&a, VLAPIC_REG_LVT_ERROR, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_ERROR), 0x000100ffu);
    wr(&a, VLAPIC_REG_LDR, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_LDR), 0xff000000u);
    wr(&a, VLAPIC_REG_DFR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_DFR), 0x0fffffffu);
    wr(&a, VLAPIC_REG_SVR, 0xffffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_SVR), 0x3ffu);
    wr(&a, VLAPIC_REG_TPR, 0x1ff);
    CHECK_EQ(rd(&a, VLAPIC_REG_TPR), 0xffu);
}

/* SDM 11.5.3: errors latch; an ESR write publishes and clears them. */
static void esr_latch_and_clear(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    CHECK(!accept_vec(&a, 5)); /* receive illegal vector, no IRR */
    CHECK(!irr_has(&a, 5));
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), 0);
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), 0);
    wr(&a, VLAPIC_REG_ICR_LO, 0x3); /* fixed vector 3: send illegal vector, not sent */
    CHECK_EQ(f.ipis, 0);
    CHECK_EQ(rd(&a, 0x040), 0);        /* reserved: illegal register address */
    wr(&a, VLAPIC_REG_SELF_IPI, 0x40); /* no SELF IPI in xAPIC mode */
    CHECK(!irr_has(&a, 0x40));
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), VLAPIC_ESR_SEND_ILLEGAL_VECTOR | VLAPIC_ESR_ILLEGAL_REGISTER);
    wr(&a, VLAPIC_REG_LVT_ERROR, 0xe3); /* unmasked: errors interrupt */
    wr(&a, VLAPIC_REG_LVT_CMCI, 0);     /* absent */
    CHECK(irr_has(&a, 0xe3));
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), VLAPIC_ESR_ILLEGAL_REGISTER);
}

/* ---- IPIs (SDM 11.6.1) ---- */

static void icr_xapic_two_step(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_ICR_HI, 0x03ffffffu);
    CHECK_EQ(rd(&a, VLAPIC_REG_ICR_HI), 0x03000000u);
    CHECK_EQ(f.ipis, 0);
    wr(&a, VLAPIC_REG_ICR_LO, 0x4050); /* fixed, assert, vector 0x50 */
    CHECK_EQ(f.ipis, 1);
    CHECK_EQ(f.ipi.vector, 0x50);
    CHECK_EQ(f.ipi.delivery_mode, APIC_DM_FIXED);
    CHECK_EQ(f.ipi.dest, 3);
    CHECK(!f.ipi.logical);
    CHECK(!f.ipi.x2apic_format);
    CHECK_EQ(f.ipi.shorthand, APIC_SH_NONE);
    CHECK(f.ipi.source == &a);
    CHECK_EQ(rd(&a, VLAPIC_REG_ICR_LO), 0x4050);                /* delivery status idle */
    wr(&a, VLAPIC_REG_ICR_LO, 0x1000 | 0x800 | 0x400 | 0x4000); /* logical NMI */
    CHECK_EQ(f.ipis, 2);
    CHECK_EQ(f.ipi.delivery_mode, APIC_DM_NMI);
    CHECK(f.ipi.logical);
    CHECK_EQ(rd(&a, VLAPIC_REG_ICR_LO), 0x4c00);
    wr(&a, VLAPIC_REG_ICR_LO, 0x8500); /* INIT level de-assert: nothing */
    CHECK_EQ(f.ipis, 2);
    wr(&a, VLAPIC_REG_ICR_LO, 0xc500); /* INIT level assert */
    CHECK_EQ(f.ipis, 3);
    CHECK_EQ(f.ipi.delivery_mode, APIC_DM_INIT);
    wr(&a, VLAPIC_REG_ICR_LO, 0x4608); /* SIPI vector 8 */
    CHECK_EQ(f.ipis, 4);
    CHECK_EQ(f.ipi.delivery_mode, APIC_DM_STARTUP);
    CHECK_EQ(f.ipi.vector, 8);
    wr(&a, VLAPIC_REG_ICR_LO, 0x4200); /* SMI: no SMM */
    CHECK_EQ(f.ipis, 4);
    CHECK_EQ(vlapic_counters(&a)->ipis_sent, 4);
}

static void icr_shorthands(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 1, false);
    enable(&a);
    wr(&a, VLAPIC_REG_ICR_LO, (1u << 18) | 0x70); /* self */
    CHECK_EQ(f.ipis, 0);
    CHECK(irr_has(&a, 0x70));
    CHECK_EQ(vlapic_counters(&a)->ipis_sent, 1);
    CHECK_EQ(vlapic_counters(&a)->ipis_received, 1);
    wr(&a, VLAPIC_REG_ICR_LO, (2u << 18) | 0x71); /* all including self: the core routes */
    CHECK_EQ(f.ipis, 1);
    CHECK_EQ(f.ipi.shorthand, APIC_SH_ALL);
    wr(&a, VLAPIC_REG_ICR_LO, (3u << 18) | 0x72);
    CHECK_EQ(f.ipis, 2);
    CHECK_EQ(f.ipi.shorthand, APIC_SH_OTHERS);
    CHECK(!irr_has(&a, 0x71));
}

static void x2apic_icr_and_self_ipi(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 4, false);
    enable(&a);
    to_x2apic(&a);
    CHECK(vlapic_msr_write(&a, 0x830, (0x105ull << 32) | 0x4051));
    CHECK_EQ(f.ipis, 1);
    CHECK_EQ(f.ipi.dest, 0x105);
    CHECK_EQ(f.ipi.vector, 0x51);
    CHECK(f.ipi.x2apic_format);
    CHECK_EQ(msr(&a, 0x830), (0x105ull << 32) | 0x4051);
    CHECK(!vlapic_msr_write(&a, 0x830, 0x2000 | 0x51));   /* bit 13 reserved */
    CHECK(!vlapic_msr_write(&a, 0x830, 0x100000 | 0x51)); /* bits 31:20 reserved */
    CHECK(!vlapic_msr_write(&a, 0x831, 0));               /* no ICR high in x2APIC */
    CHECK_EQ(f.ipis, 1);
    CHECK(vlapic_msr_write(&a, 0x83f, 0x80));
    CHECK_EQ(f.ipis, 1);
    CHECK_EQ(msr(&a, 0x824) & 1u, 1u); /* IRR word 4 = vectors 0x80-0x9f */
    uint64_t v;
    CHECK(!vlapic_msr_read(&a, 0x83f, &v)); /* write-only */
    CHECK(!vlapic_msr_write(&a, 0x83f, 0x180));
    CHECK(vlapic_msr_write(&a, 0x83f, 0x7)); /* illegal vector: ESR */
    CHECK(vlapic_msr_write(&a, 0x828, 0));
    CHECK_EQ(msr(&a, 0x828), VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
}

/* SDM 11.12.1.2, 11.12.1.3. */
static void x2apic_msr_rules(void)
{
    struct vlapic a;
    struct fake f;
    uint64_t v;
    setup(&a, &f, 0x23, false);
    CHECK(!vlapic_msr_read(&a, 0x802, &v)); /* xAPIC mode: #GP */
    CHECK(!vlapic_msr_write(&a, 0x808, 0));
    to_x2apic(&a);
    CHECK(!vlapic_in_xapic_page(&a, 0xfee00000));
    CHECK(!vlapic_mmio_read(&a, VLAPIC_REG_ID, 4, &v));
    CHECK(!vlapic_mmio_write(&a, VLAPIC_REG_TPR, 4, 0));
    CHECK_EQ(msr(&a, 0x802), 0x23);
    CHECK_EQ(msr(&a, 0x803), 0x00050014u);
    CHECK_EQ(msr(&a, 0x80d), (2u << 16) | (1u << 3));
    CHECK_EQ(msr(&a, 0x80f), 0xff);
    CHECK(!vlapic_msr_write(&a, 0x802, 0)); /* ID read-only */
    CHECK(!vlapic_msr_write(&a, 0x803, 0)); /* version */
    CHECK(!vlapic_msr_write(&a, 0x80a, 0)); /* PPR */
    CHECK(!vlapic_msr_write(&a, 0x80d, 0)); /* LDR read-only */
    CHECK(!vlapic_msr_write(&a, 0x820, 0)); /* IRR */
    CHECK(!vlapic_msr_write(&a, 0x839, 0)); /* current count */
    CHECK(!vlapic_msr_read(&a, 0x80b, &v)); /* EOI write-only */
    CHECK(!vlapic_msr_write(&a, 0x80b, 1)); /* non-zero EOI */
    CHECK(vlapic_msr_write(&a, 0x80b, 0));
    CHECK(!vlapic_msr_read(&a, 0x80e, &v)); /* no DFR */
    CHECK(!vlapic_msr_write(&a, 0x80e, 0));
    CHECK(!vlapic_msr_read(&a, 0x809, &v)); /* no APR */
    CHECK(!vlapic_msr_read(&a, 0x82f, &v)); /* no CMCI */
    CHECK(!vlapic_msr_read(&a, 0x800, &v)); /* reserved */
    CHECK(!vlapic_msr_read(&a, 0x8ff, &v));
    CHECK(!vlapic_msr_read(&a, 0x900, &v));     /* outside the range Keel handles */
    CHECK(!vlapic_msr_write(&a, 0x808, 0x100)); /* TPR bits 31:8 */
    CHECK(!vlapic_msr_write(&a, 0x808, 1ull << 32));
    CHECK(vlapic_msr_write(&a, 0x808, 0x20));
    CHECK_EQ(msr(&a, 0x808), 0x20);
    CHECK_EQ(msr(&a, 0x80a), 0x20);
    CHECK(!vlapic_msr_write(&a, 0x828, 1));      /* ESR: only 0 */
    CHECK(!vlapic_msr_write(&a, 0x80f, 0x1000)); /* no directed EOI */
    CHECK(vlapic_msr_write(&a, 0x80f, SVR_ON));
    CHECK(!vlapic_msr_write(&a, 0x835, 0x20000)); /* LINT0 bit 17 reserved */
    CHECK(vlapic_msr_write(&a, 0x835, 0x700));
    CHECK_EQ(msr(&a, 0x835), 0x700);
    CHECK(!vlapic_msr_write(&a, 0x83e, 0x4)); /* divide bit 2 reserved */
    CHECK(vlapic_msr_write(&a, 0x83e, 0xb));
}

static void x2apic_ldr_derivation(void)
{
    static const uint32_t ids[] = {0, 15, 16, 0x123};
    static const uint32_t ldrs[] = {0x1, 0x8000, 0x10001, 0x120008};
    for (unsigned i = 0; i < 4; i++) {
        struct vlapic a;
        struct fake f;
        setup(&a, &f, ids[i], false);
        to_x2apic(&a);
        CHECK_EQ(vlapic_ldr(&a), ldrs[i]);
        CHECK_EQ(msr(&a, 0x80d), ldrs[i]);
        vlapic_init_signal(&a); /* INIT keeps x2APIC mode and the derived LDR */
        CHECK_EQ(msr(&a, 0x80d), ldrs[i]);
    }
}

/* ---- timer (SDM 11.5.4) ---- */

static void timer_one_shot(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_TIMER_DIV, 0xb); /* divide by 1 */
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x30);
    wr(&a, VLAPIC_REG_TIMER_INIT, 1000);
    CHECK_EQ(f.arms, 1);
    CHECK_EQ(f.armed_at, f.now + 1000);
    CHECK(vlapic_timer_armed(&a));
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_INIT), 1000);
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 1000);
    uint64_t start = f.now;
    f.now = start + 250;
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 750);
    f.now = start + 999;
    vlapic_timer_poll(&a);
    CHECK(!irr_has(&a, 0x30));
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 1);
    f.now = start + 1000;
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 0);
    vlapic_timer_poll(&a);
    CHECK(irr_has(&a, 0x30));
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 1);
    CHECK(!vlapic_timer_armed(&a));
    CHECK_EQ(f.cancels, 0); /* it went off: nothing to cancel */
    vlapic_ack(&a, 0x30);
    wr(&a, VLAPIC_REG_EOI, 0);
    f.now = start + 5000;
    vlapic_timer_poll(&a);
    CHECK(!irr_has(&a, 0x30)); /* fires once */
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 1);
    CHECK_EQ(f.arms, 1);
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 0);
    wr(&a, VLAPIC_REG_TIMER_INIT, 10); /* restart */
    CHECK_EQ(f.arms, 2);
    CHECK_EQ(f.armed_at, f.now + 10);
}

static void timer_periodic(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x20000 | 0x31); /* periodic; divide 2 (reset value) */
    wr(&a, VLAPIC_REG_TIMER_INIT, 100000);        /* 200 us */
    uint64_t start = f.now;
    CHECK_EQ(f.armed_at, start + 200000);
    f.now = start + 200000;
    vlapic_timer_poll(&a);
    CHECK(irr_has(&a, 0x31));
    CHECK_EQ(f.armed_at, start + 400000);
    f.now = start + 250000;
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 75000);
    f.now = start + 1000000; /* several periods late: one interrupt */
    vlapic_timer_poll(&a);
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 2);
    CHECK_EQ(f.armed_at, start + 1200000);
    f.now = start + 1100000;
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 50000);
    f.now = start + 1300000; /* not polled yet: the count wrapped */
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 50000);
    wr(&a, VLAPIC_REG_LVT_TIMER,
       0x20000 | MASKED | 0x31); /* masked: expiry noticed, host timer off */
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 3);
    CHECK(!vlapic_timer_armed(&a));
    f.now = start + 2000000;
    vlapic_timer_poll(&a);
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 3);
    CHECK(rd(&a, VLAPIC_REG_TIMER_CUR) != 0); /* still counting */
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x20000 | 0x31);
    CHECK(vlapic_timer_armed(&a));
    CHECK(f.armed_at > f.now);
}

/* Divide configuration (SDM 11.5.4 figure 11-10). */
static void timer_divide_values(void)
{
    static const uint32_t codes[] = {0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb};
    static const uint32_t divisors[] = {2, 4, 8, 16, 32, 64, 128, 1};
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x30);
    for (unsigned i = 0; i < 8; i++) {
        wr(&a, VLAPIC_REG_TIMER_DIV, codes[i] | 0xfffffff4u);
        CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_DIV), codes[i]);
        wr(&a, VLAPIC_REG_TIMER_INIT, 10);
        CHECK_MSG(f.armed_at == f.now + 10ull * divisors[i], "divide code %x: armed %llu", codes[i],
                  (unsigned long long)(f.armed_at - f.now));
    }
    /* A divisor change while counting keeps the current count. */
    wr(&a, VLAPIC_REG_TIMER_DIV, 0xb);
    wr(&a, VLAPIC_REG_TIMER_INIT, 1000);
    f.now += 400;
    wr(&a, VLAPIC_REG_TIMER_DIV, 0x1); /* by 4 */
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 600);
    CHECK_EQ(f.armed_at, f.now + 2400);
}

static void timer_initial_zero_stops(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x20000 | 0x30);
    wr(&a, VLAPIC_REG_TIMER_INIT, 500000);
    CHECK(vlapic_timer_armed(&a));
    wr(&a, VLAPIC_REG_TIMER_INIT, 0);
    CHECK_EQ(f.cancels, 1);
    CHECK(!vlapic_timer_armed(&a));
    f.now += 10000000;
    vlapic_timer_poll(&a);
    CHECK(!irr_has(&a, 0x30));
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 0);
    /* A masked one-shot counts but interrupts nobody and arms no host timer. */
    wr(&a, VLAPIC_REG_LVT_TIMER, MASKED | 0x30);
    unsigned arms = f.arms;
    wr(&a, VLAPIC_REG_TIMER_INIT, 100);
    CHECK_EQ(f.arms, arms);
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 100); /* 100 counts of 2 ns */
    f.now += 100;
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 50);
    f.now += 200;
    vlapic_timer_poll(&a);
    CHECK(!irr_has(&a, 0x30));
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 0);
}

/* SDM 11.5.4.1. TSC_KHZ = 2 GHz: 2 ticks per ns. */
static void timer_tsc_deadline(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    CHECK(vlapic_msr_write(&a, 0x6e0, f.tsc + 100)); /* one-shot mode: ignored */
    CHECK_EQ(msr(&a, 0x6e0), 0);
    CHECK_EQ(f.arms, 0);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x40000 | 0x32);
    wr(&a, VLAPIC_REG_TIMER_INIT, 1000); /* ignored in TSC-deadline mode */
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_INIT), 0);
    CHECK_EQ(f.arms, 0);
    uint64_t deadline = f.tsc + 2000;
    CHECK(vlapic_msr_write(&a, 0x6e0, deadline));
    CHECK_EQ(f.arms, 1);
    CHECK_EQ(f.armed_at, f.now + 1000);
    CHECK_EQ(msr(&a, 0x6e0), deadline);
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_CUR), 0);
    f.now += 1000;
    f.tsc += 1999; /* the clocks disagree by a tick: not yet */
    vlapic_timer_poll(&a);
    CHECK(!irr_has(&a, 0x32));
    CHECK(vlapic_timer_armed(&a));
    CHECK(f.armed_at > f.now);
    f.tsc += 1;
    vlapic_timer_poll(&a);
    CHECK(irr_has(&a, 0x32));
    CHECK_EQ(msr(&a, 0x6e0), 0); /* cleared once fired */
    CHECK(!vlapic_timer_armed(&a));
    vlapic_ack(&a, 0x32);
    wr(&a, VLAPIC_REG_EOI, 0);
    CHECK(vlapic_msr_write(&a, 0x6e0, f.tsc - 1)); /* already passed: fires at once */
    CHECK(irr_has(&a, 0x32));
    CHECK_EQ(vlapic_counters(&a)->timer_interrupts, 2);
    unsigned cancels = f.cancels;
    CHECK(vlapic_msr_write(&a, 0x6e0, f.tsc + 1000000));
    CHECK(vlapic_msr_write(&a, 0x6e0, 0)); /* 0 disarms */
    CHECK_EQ(f.cancels, cancels + 1);
    CHECK(vlapic_msr_write(&a, 0x6e0, f.tsc + 1000000));
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x32); /* mode change disarms */
    CHECK_EQ(f.cancels, cancels + 2);
    CHECK_EQ(msr(&a, 0x6e0), 0);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x40000 | 0x32);
    CHECK_EQ(msr(&a, 0x6e0), 0);
    CHECK(!vlapic_timer_armed(&a));
    /* One-shot -> periodic also disarms (and clears the initial count). */
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x32);
    wr(&a, VLAPIC_REG_TIMER_INIT, 1000);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x20000 | 0x32);
    CHECK(!vlapic_timer_armed(&a));
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_INIT), 0);
}

/* TSC deltas convert with 64-bit math and saturate. */
static void timer_tsc_deadline_far(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    a.env.tsc_khz = 1;
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x40000 | 0x33);
    CHECK(vlapic_msr_write(&a, 0x6e0, UINT64_MAX));
    CHECK_EQ(f.armed_at, UINT64_MAX);
    a.env.tsc_khz = 3000000;
    CHECK(vlapic_msr_write(&a, 0x6e0, f.tsc + 3000000000000ull)); /* 1000 s */
    CHECK_EQ(f.armed_at, f.now + 1000000000000ull);
    CHECK(vlapic_msr_write(&a, 0x6e0, f.tsc + 1)); /* a third of a ns: rounds up */
    CHECK_EQ(f.armed_at, f.now + 1);
}

/* ---- IA32_APIC_BASE (SDM 11.4.4, 11.12.5) ---- */

static void base_msr_transitions(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 1, false);
    uint64_t en = 0xfee00000ull | VLAPIC_BASE_EN, x2 = en | VLAPIC_BASE_EXTD;
    CHECK(!vlapic_set_base_msr(&a, en | (1ull << 9))); /* reserved */
    CHECK(!vlapic_set_base_msr(&a, en | 0x1));
    CHECK(!vlapic_set_base_msr(&a, en | (1ull << 46)));
    CHECK(vlapic_set_base_msr(&a, en | (1ull << 45)));
    CHECK(vlapic_set_base_msr(&a, en | VLAPIC_BASE_BSP)); /* BSP flag read-only */
    CHECK_EQ(vlapic_base_msr(&a), en);
    CHECK(!vlapic_set_base_msr(&a, 0xfee00000ull | VLAPIC_BASE_EXTD)); /* EN=0 EXTD=1 */
    CHECK(vlapic_set_base_msr(&a, x2));                                /* xAPIC -> x2APIC */
    CHECK(vlapic_set_base_msr(&a, x2));
    CHECK(!vlapic_set_base_msr(&a, en)); /* x2APIC -> xAPIC */
    CHECK(!vlapic_set_base_msr(&a, 0xfee00000ull | VLAPIC_BASE_EXTD));
    CHECK(vlapic_set_base_msr(&a, 0xfee00000ull)); /* x2APIC -> disabled */
    CHECK(!vlapic_hw_enabled(&a));
    CHECK(!vlapic_set_base_msr(&a, x2)); /* disabled -> x2APIC */
    CHECK(vlapic_set_base_msr(&a, 0xfee00000ull));
    CHECK(vlapic_set_base_msr(&a, 0xabcde000ull | VLAPIC_BASE_EN)); /* relocated */
    CHECK(vlapic_in_xapic_page(&a, 0xabcde800ull));
    CHECK(!vlapic_in_xapic_page(&a, 0xfee00000ull));
    CHECK_EQ(vlapic_base_msr(&a), 0xabcde000ull | VLAPIC_BASE_EN);
    struct vlapic b;
    setup(&b, &f, 0, true);
    CHECK(vlapic_set_base_msr(&b, 0xfee00000ull | VLAPIC_BASE_EN)); /* BSP kept */
    CHECK_EQ(vlapic_base_msr(&b), 0xfee00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP);
}

static void disable_and_reenable(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 2, false);
    enable(&a);
    wr(&a, VLAPIC_REG_TPR, 0x20);
    wr(&a, VLAPIC_REG_LDR, 0x04000000);
    wr(&a, VLAPIC_REG_LVT_TIMER, 0x20000 | 0x30);
    wr(&a, VLAPIC_REG_TIMER_INIT, 100000);
    accept_vec(&a, 0x90);
    CHECK(vlapic_timer_armed(&a));
    CHECK(vlapic_set_base_msr(&a, 0xfee00000ull));
    CHECK_EQ(f.cancels, 1);
    CHECK(!vlapic_timer_armed(&a));
    CHECK(!vlapic_in_xapic_page(&a, 0xfee00000));
    uint64_t v;
    CHECK(!vlapic_mmio_read(&a, VLAPIC_REG_ID, 4, &v));
    CHECK_EQ(vlapic_pending_vector(&a), -1);
    CHECK(vlapic_accepts_extint(&a)); /* no APIC: the PIC's INTR goes straight in */
    CHECK(!accept_vec(&a, 0x91));
    struct vlapic_irq nmi = {.delivery_mode = APIC_DM_NMI, .assert = true};
    CHECK(!vlapic_accept(&a, &nmi));
    vlapic_lint(&a, 1, true); /* LINT1 is the NMI pin */
    CHECK(vlapic_take_nmi(&a));
    vlapic_set_tpr(&a, 0x50); /* CR8 while disabled: gone on re-enable */
    CHECK(vlapic_set_base_msr(&a, 0xfee00000ull | VLAPIC_BASE_EN));
    CHECK_EQ(rd(&a, VLAPIC_REG_ID), 2u << 24);
    CHECK_EQ(rd(&a, VLAPIC_REG_SVR), 0xff); /* software-disabled */
    CHECK_EQ(rd(&a, VLAPIC_REG_TPR), 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_LDR), 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_TIMER), MASKED);
    CHECK_EQ(rd(&a, VLAPIC_REG_TIMER_INIT), 0);
    CHECK(!irr_has(&a, 0x90));
    CHECK(!vlapic_accepts_extint(&a));
}

/* INIT (SDM 11.4.7.3): registers reset, ID and mode kept. */
static void init_signal_state(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 5, false);
    enable(&a);
    wr(&a, VLAPIC_REG_TPR, 0x30);
    accept_vec(&a, 0x90);
    struct vlapic_irq nmi = {.delivery_mode = APIC_DM_NMI, .assert = true};
    struct vlapic_irq init = {.delivery_mode = APIC_DM_INIT, .assert = true, .level_trigger = true};
    struct vlapic_irq sipi = {.delivery_mode = APIC_DM_STARTUP, .vector = 0x9a, .assert = true};
    CHECK(vlapic_accept(&a, &nmi));
    CHECK(vlapic_accept(&a, &init));
    CHECK(vlapic_take_init(&a));
    CHECK(vlapic_accept(&a, &sipi));
    vlapic_init_signal(&a);
    CHECK_EQ(rd(&a, VLAPIC_REG_ID), 5u << 24);
    CHECK_EQ(rd(&a, VLAPIC_REG_SVR), 0xff);
    CHECK_EQ(rd(&a, VLAPIC_REG_TPR), 0);
    CHECK(!irr_has(&a, 0x90));
    CHECK(!vlapic_take_nmi(&a));
    CHECK_EQ(vlapic_take_sipi(&a), 0x9a);
    CHECK_EQ(vlapic_base_msr(&a), 0xfee00000ull | VLAPIC_BASE_EN);
}

/* ---- acceptance of NMI/INIT/SIPI, LINT, ExtINT ---- */

static void accept_nmi_init_sipi(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 1, false);
    struct vlapic src;
    struct fake fs;
    setup(&src, &fs, 0, true);
    struct vlapic_irq nmi = {.delivery_mode = APIC_DM_NMI, .assert = true, .source = &src};
    CHECK(vlapic_accept(&a, &nmi));
    CHECK(!vlapic_accept(&a, &nmi)); /* one pending NMI */
    CHECK(vlapic_has_event(&a));
    CHECK(vlapic_take_nmi(&a));
    CHECK(!vlapic_take_nmi(&a));
    CHECK(!vlapic_has_event(&a));
    struct vlapic_irq deassert = {.delivery_mode = APIC_DM_INIT, .level_trigger = true};
    CHECK(!vlapic_accept(&a, &deassert)); /* INIT level de-assert ignored */
    CHECK(!vlapic_take_init(&a));
    struct vlapic_irq init = {.delivery_mode = APIC_DM_INIT, .level_trigger = true, .assert = true};
    CHECK(vlapic_accept(&a, &init));
    CHECK(vlapic_has_event(&a));
    CHECK(vlapic_take_init(&a));
    CHECK(!vlapic_take_init(&a));
    CHECK_EQ(vlapic_take_sipi(&a), -1);
    struct vlapic_irq sipi = {.delivery_mode = APIC_DM_STARTUP, .vector = 0x10, .assert = true};
    CHECK(vlapic_accept(&a, &sipi));
    sipi.vector = 0x9f;
    CHECK(vlapic_accept(&a, &sipi)); /* the last one counts */
    CHECK(vlapic_has_event(&a));
    CHECK_EQ(vlapic_take_sipi(&a), 0x9f);
    CHECK_EQ(vlapic_take_sipi(&a), -1);
    struct vlapic_irq smi = {.delivery_mode = APIC_DM_SMI, .assert = true};
    CHECK(!vlapic_accept(&a, &smi));
    const struct vlapic_counters *c = vlapic_counters(&a);
    CHECK_EQ(c->nmis, 2);
    CHECK_EQ(c->inits, 1);
    CHECK_EQ(c->sipis, 2);
    CHECK_EQ(c->ipis_received, 2);
}

static void extint_acceptance(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    CHECK(!vlapic_accepts_extint(&a));
    vlapic_set_virtual_wire(&a);
    CHECK(vlapic_accepts_extint(&a));
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0x700);
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT1), 0x400);
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_LINT0, MASKED | 0x700);
    CHECK(!vlapic_accepts_extint(&a));
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x030); /* fixed */
    CHECK(!vlapic_accepts_extint(&a));
    CHECK(vlapic_set_base_msr(&a, 0xfee00000ull | VLAPIC_BASE_BSP));
    CHECK(vlapic_accepts_extint(&a));
}

/* Levels asked for from another CPU are applied by the owner: a held
 * level once, a pulse undone before the owner looks still as an edge. */
static void lint_requests(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_LINT1, 0x400); /* NMI */
    CHECK(!vlapic_owner_work_pending(&a));
    vlapic_request_lint(&a, 1, true);
    CHECK(vlapic_owner_work_pending(&a));
    CHECK(!vlapic_nmi_pending(&a)); /* nothing until the owner applies it */
    vlapic_apply_lint_requests(&a);
    CHECK(vlapic_take_nmi(&a));
    CHECK(!vlapic_owner_work_pending(&a));
    vlapic_request_lint(&a, 1, true); /* held: no new edge */
    vlapic_apply_lint_requests(&a);
    CHECK(!vlapic_take_nmi(&a));
    vlapic_request_lint(&a, 1, false);
    vlapic_request_lint(&a, 1, true); /* a pulse the owner did not see */
    vlapic_request_lint(&a, 1, false);
    vlapic_apply_lint_requests(&a);
    CHECK(vlapic_take_nmi(&a));
    vlapic_apply_lint_requests(&a); /* nothing more */
    CHECK(!vlapic_take_nmi(&a));
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x8042); /* fixed level: delivered while held */
    vlapic_request_lint(&a, 0, true);
    vlapic_apply_lint_requests(&a);
    CHECK(irr_has(&a, 0x42));
    CHECK(tmr_has(&a, 0x42));
}

static void lint_inputs(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    vlapic_lint(&a, 1, true); /* masked: nothing */
    vlapic_lint(&a, 1, false);
    CHECK(!vlapic_take_nmi(&a));
    enable(&a);
    wr(&a, VLAPIC_REG_LVT_LINT1, 0x400); /* NMI */
    vlapic_lint(&a, 1, true);
    CHECK(vlapic_take_nmi(&a));
    vlapic_lint(&a, 1, true); /* held: no new edge */
    CHECK(!vlapic_take_nmi(&a));
    vlapic_lint(&a, 1, false);
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x041); /* fixed edge */
    vlapic_lint(&a, 0, true);
    CHECK(irr_has(&a, 0x41));
    CHECK(!tmr_has(&a, 0x41));
    vlapic_lint(&a, 0, false);
    vlapic_ack(&a, 0x41);
    wr(&a, VLAPIC_REG_EOI, 0);
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x8042); /* fixed level */
    vlapic_lint(&a, 0, true);
    CHECK(irr_has(&a, 0x42));
    CHECK(tmr_has(&a, 0x42));
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0xc042); /* Remote IRR */
    vlapic_ack(&a, 0x42);
    wr(&a, VLAPIC_REG_LVT_LINT0, 0x8042); /* a rewrite keeps the read-only Remote IRR */
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0xc042);
    vlapic_lint(&a, 0, true);
    CHECK(!irr_has(&a, 0x42)); /* Remote IRR holds it */
    wr(&a, VLAPIC_REG_EOI, 0); /* still asserted: delivered again */
    CHECK(irr_has(&a, 0x42));
    CHECK_EQ(f.eois, 1);
    vlapic_ack(&a, 0x42);
    vlapic_lint(&a, 0, false);
    wr(&a, VLAPIC_REG_EOI, 0);
    CHECK(!irr_has(&a, 0x42));
    CHECK_EQ(rd(&a, VLAPIC_REG_LVT_LINT0), 0x8042);
    wr(&a, VLAPIC_REG_LVT_LINT1, 0x500); /* INIT */
    vlapic_lint(&a, 1, true);
    CHECK(vlapic_take_init(&a));
}

/* xAPIC MMIO sizes and alignments (documented in vlapic.h). */
static void mmio_odd_accesses(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0x5a, false);
    uint64_t v;
    CHECK(vlapic_mmio_read(&a, VLAPIC_REG_ID + 3, 1, &v));
    CHECK_EQ(v, 0x5a);
    CHECK(vlapic_mmio_read(&a, VLAPIC_REG_ID + 2, 2, &v));
    CHECK_EQ(v, 0x5a00);
    CHECK(vlapic_mmio_read(&a, VLAPIC_REG_ID, 8, &v));
    CHECK_EQ(v, 0x5a000000);
    CHECK(vlapic_mmio_read(&a, VLAPIC_REG_ID + 4, 4, &v));
    CHECK_EQ(v, 0);
    CHECK(vlapic_mmio_read(&a, 0xffc, 8, &v)); /* crosses the page end */
    CHECK_EQ(v, 0);
    CHECK(vlapic_mmio_write(&a, VLAPIC_REG_TPR, 2, 0x30)); /* ignored */
    CHECK(vlapic_mmio_write(&a, VLAPIC_REG_TPR + 4, 4, 0x30));
    CHECK_EQ(rd(&a, VLAPIC_REG_TPR), 0);
    CHECK(!vlapic_mmio_read(&a, 0x1000, 4, &v));
    CHECK(!vlapic_mmio_read(&a, 0x20, 3, &v));
    CHECK(!vlapic_mmio_write(&a, 0x20, 16, 0));
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), 0); /* odd accesses raise no error */
    CHECK_EQ(rd(&a, 0x800), 0);          /* reserved */
    wr(&a, VLAPIC_REG_ESR, 0);
    CHECK_EQ(rd(&a, VLAPIC_REG_ESR), VLAPIC_ESR_ILLEGAL_REGISTER);
}

/* ---- routing (SDM 11.6.2, 11.12.10) ---- */

#define NAPICS 4

struct vm {
    struct vlapic apic[NAPICS];
    struct fake fake[NAPICS];
    struct vlapic *list[NAPICS];
    struct vlapic *targets[NAPICS];
};

static void vm_setup(struct vm *vm)
{
    for (unsigned i = 0; i < NAPICS; i++) {
        setup(&vm->apic[i], &vm->fake[i], i, i == 0);
        enable(&vm->apic[i]);
        vm->list[i] = &vm->apic[i];
    }
}

static unsigned route(struct vm *vm, const struct vlapic_irq *irq)
{
    memset(vm->targets, 0, sizeof(vm->targets));
    return vlapic_route(vm->list, NAPICS, irq, vm->targets);
}

static void route_physical_and_broadcast(void)
{
    struct vm vm;
    vm_setup(&vm);
    struct vlapic_irq irq = fixed_irq(0x50);
    irq.dest = 2;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[2]);
    CHECK(irr_has(&vm.apic[2], 0x50));
    CHECK(!irr_has(&vm.apic[1], 0x50));
    CHECK_EQ(route(&vm, &irq), 0); /* already pending: nothing new to kick */
    irq.dest = 0x102;              /* xAPIC format: 8 bits */
    irq.vector = 0x51;
    CHECK_EQ(route(&vm, &irq), 1);
    irq.dest = 9;
    CHECK_EQ(route(&vm, &irq), 0);
    CHECK(vlapic_set_base_msr(&vm.apic[3], 0xfee00000ull)); /* globally disabled */
    irq.dest = 0xff;
    irq.vector = 0x52;
    CHECK_EQ(route(&vm, &irq), 3);
    irq.dest = 3;
    irq.vector = 0x53;
    CHECK_EQ(route(&vm, &irq), 0);
    to_x2apic(&vm.apic[1]); /* an x2APIC sender and target */
    irq.x2apic_format = true;
    irq.dest = 0xffffffffu;
    irq.vector = 0x54;
    CHECK_EQ(route(&vm, &irq), 3);
    irq.dest = 0xff; /* x2APIC format: not a broadcast */
    irq.vector = 0x55;
    CHECK_EQ(route(&vm, &irq), 0);
    irq.dest = 2; /* an xAPIC-mode target of an x2APIC sender */
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[2]);
}

static void route_logical_flat_and_cluster(void)
{
    struct vm vm;
    vm_setup(&vm);
    for (unsigned i = 0; i < NAPICS; i++)
        wr(&vm.apic[i], VLAPIC_REG_LDR, (1u << i) << 24);
    struct vlapic_irq irq = fixed_irq(0x60);
    irq.logical = true;
    irq.dest = 0x5;
    CHECK_EQ(route(&vm, &irq), 2);
    CHECK(vm.targets[0] == &vm.apic[0]);
    CHECK(vm.targets[1] == &vm.apic[2]);
    irq.dest = 0x30;
    irq.vector = 0x61;
    CHECK_EQ(route(&vm, &irq), 0);
    static const uint32_t cluster_ldr[NAPICS] = {0x11, 0x12, 0x21, 0x14};
    for (unsigned i = 0; i < NAPICS; i++) {
        wr(&vm.apic[i], VLAPIC_REG_DFR, 0x0fffffffu);
        wr(&vm.apic[i], VLAPIC_REG_LDR, cluster_ldr[i] << 24);
    }
    irq.dest = 0x13; /* cluster 1, members 0 and 1 */
    irq.vector = 0x62;
    CHECK_EQ(route(&vm, &irq), 2);
    CHECK(vm.targets[0] == &vm.apic[0]);
    CHECK(vm.targets[1] == &vm.apic[1]);
    irq.dest = 0x21;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[2]);
    irq.dest = 0xff;
    irq.vector = 0x63;
    CHECK_EQ(route(&vm, &irq), 4);
}

static void route_x2apic_cluster(void)
{
    struct vm vm;
    vm_setup(&vm);
    static const uint32_t ids[NAPICS] = {0, 1, 2, 17};
    for (unsigned i = 0; i < NAPICS; i++) {
        setup(&vm.apic[i], &vm.fake[i], ids[i], i == 0);
        enable(&vm.apic[i]);
        to_x2apic(&vm.apic[i]);
    }
    struct vlapic_irq irq = fixed_irq(0x70);
    irq.logical = true;
    irq.x2apic_format = true;
    irq.dest = 0x5; /* cluster 0: IDs 0 and 2 */
    CHECK_EQ(route(&vm, &irq), 2);
    CHECK(vm.targets[0] == &vm.apic[0]);
    CHECK(vm.targets[1] == &vm.apic[2]);
    irq.dest = (1u << 16) | 0x2; /* cluster 1, ID 17 */
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[3]);
    irq.dest = (1u << 16) | 0x1;
    irq.vector = 0x71;
    CHECK_EQ(route(&vm, &irq), 0);
    irq.logical = false;
    irq.dest = 17;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[3]);
}

static void route_shorthands(void)
{
    struct vm vm;
    vm_setup(&vm);
    struct vlapic_irq irq = fixed_irq(0x80);
    irq.source = &vm.apic[1];
    irq.shorthand = APIC_SH_ALL;
    irq.dest = 3; /* ignored with a shorthand */
    CHECK_EQ(route(&vm, &irq), 4);
    irq.vector = 0x81;
    irq.shorthand = APIC_SH_OTHERS;
    CHECK_EQ(route(&vm, &irq), 3);
    CHECK(!irr_has(&vm.apic[1], 0x81));
    irq.vector = 0x82;
    irq.shorthand = APIC_SH_SELF;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[1]);
    CHECK_EQ(vlapic_counters(&vm.apic[1])->ipis_received, 2);
    CHECK_EQ(vlapic_counters(&vm.apic[0])->ipis_received, 2);
    struct vlapic_irq sipi = {.delivery_mode = APIC_DM_STARTUP,
                              .vector = 0x10,
                              .assert = true,
                              .shorthand = APIC_SH_OTHERS,
                              .source = &vm.apic[0]};
    CHECK_EQ(route(&vm, &sipi), 3);
    CHECK_EQ(vlapic_take_sipi(&vm.apic[3]), 0x10);
    CHECK_EQ(vlapic_take_sipi(&vm.apic[0]), -1);
}

static void route_lowest_priority(void)
{
    struct vm vm;
    vm_setup(&vm);
    static const uint8_t tpr[NAPICS] = {0x20, 0x10, 0x10, 0x30};
    for (unsigned i = 0; i < NAPICS; i++)
        vlapic_set_tpr(&vm.apic[i], tpr[i]);
    struct vlapic_irq irq = fixed_irq(0x90);
    irq.delivery_mode = APIC_DM_LOWEST;
    irq.dest = 0xff;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[1]); /* lowest TPR, tie to the lowest index */
    CHECK(irr_has(&vm.apic[1], 0x90));
    CHECK(!irr_has(&vm.apic[2], 0x90));
    CHECK_EQ(vlapic_arbitration_priority(&vm.apic[1]), 0x90); /* pending IRR class */
    irq.vector = 0x91;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[2]);
    wr(&vm.apic[0], VLAPIC_REG_SVR, 0xff); /* software-disabled: not a candidate */
    vlapic_set_tpr(&vm.apic[0], 0);
    irq.logical = true; /* flat: LDR bits */
    for (unsigned i = 0; i < NAPICS; i++)
        wr(&vm.apic[i], VLAPIC_REG_LDR, (1u << i) << 24);
    irq.dest = 0x9; /* apic 0 (disabled) and 3 */
    irq.vector = 0x92;
    CHECK_EQ(route(&vm, &irq), 1);
    CHECK(vm.targets[0] == &vm.apic[3]);
}

/* MSI (SDM 11.11). */
static void msi_decode(void)
{
    struct vlapic_irq irq;
    CHECK(vlapic_msi_to_irq(0xfee03000ull, 0x0031, &irq));
    CHECK_EQ(irq.dest, 3);
    CHECK(!irq.logical);
    CHECK_EQ(irq.vector, 0x31);
    CHECK_EQ(irq.delivery_mode, APIC_DM_FIXED);
    CHECK(!irq.level_trigger);
    CHECK(irq.assert);
    CHECK(irq.source == NULL);
    CHECK_EQ(irq.shorthand, APIC_SH_NONE);
    CHECK(!irq.x2apic_format);
    CHECK(vlapic_msi_to_irq(0xfeeff004ull, 0xc441, &irq)); /* logical, NMI, level assert */
    CHECK_EQ(irq.dest, 0xff);
    CHECK(irq.logical);
    CHECK_EQ(irq.delivery_mode, APIC_DM_NMI);
    CHECK(irq.level_trigger);
    CHECK(irq.assert);
    CHECK(vlapic_msi_to_irq(0xfee00000ull, 0x8041, &irq)); /* level de-assert */
    CHECK(!irq.assert);
    CHECK(vlapic_msi_to_irq(0xfee01008ull, 0x0041, &irq)); /* RH: lowest priority */
    CHECK_EQ(irq.delivery_mode, APIC_DM_LOWEST);
    CHECK(vlapic_msi_to_irq(0xfee01008ull, 0x0541, &irq)); /* RH, INIT stays INIT */
    CHECK_EQ(irq.delivery_mode, APIC_DM_INIT);
    CHECK(!vlapic_msi_to_irq(0xfed00000ull, 0x41, &irq));
    CHECK(!vlapic_msi_to_irq(0x1fee00000ull, 0x41, &irq));
}

/* vlapic_accept from other threads while the owner acks and EOIs. */
#define ACCEPTORS 4
#define ROUNDS    20000

struct race {
    struct vlapic *a;
    unsigned id;
};

static void *acceptor(void *arg)
{
    struct race *r = arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        struct vlapic_irq irq = fixed_irq((uint8_t)(0x40 + r->id * 0x20 + i % 32));
        vlapic_accept(r->a, &irq);
    }
    return NULL;
}

static void concurrent_accept(void)
{
    struct vlapic a;
    struct fake f;
    setup(&a, &f, 0, true);
    enable(&a);
    pthread_t t[ACCEPTORS];
    struct race r[ACCEPTORS];
    for (unsigned i = 0; i < ACCEPTORS; i++) {
        r[i] = (struct race){&a, i};
        CHECK_EQ(pthread_create(&t[i], NULL, acceptor, &r[i]), 0);
    }
    unsigned served = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        int v = vlapic_pending_vector(&a);
        if (v < 0)
            continue;
        vlapic_ack(&a, (uint8_t)v);
        wr(&a, VLAPIC_REG_EOI, 0);
        served++;
    }
    for (unsigned i = 0; i < ACCEPTORS; i++)
        pthread_join(t[i], NULL);
    while (vlapic_pending_vector(&a) >= 0) {
        vlapic_ack(&a, (uint8_t)vlapic_pending_vector(&a));
        wr(&a, VLAPIC_REG_EOI, 0);
        served++;
    }
    CHECK(served > 0);
    for (unsigned w = 0; w < 8; w++) {
        CHECK_EQ(rd(&a, VLAPIC_REG_IRR + w * 16), 0);
        CHECK_EQ(rd(&a, VLAPIC_REG_ISR + w * 16), 0);
    }
}

int main(void)
{
    check_begin("vlapic");
    RUN(power_on_state);
    RUN(read_only_registers);
    RUN(priority_and_nesting);
    RUN(eoi_level_on_tmr);
    RUN(software_disable);
    RUN(lvt_writable_bits);
    RUN(esr_latch_and_clear);
    RUN(icr_xapic_two_step);
    RUN(icr_shorthands);
    RUN(x2apic_icr_and_self_ipi);
    RUN(x2apic_msr_rules);
    RUN(x2apic_ldr_derivation);
    RUN(timer_one_shot);
    RUN(timer_periodic);
    RUN(timer_divide_values);
    RUN(timer_initial_zero_stops);
    RUN(timer_tsc_deadline);
    RUN(timer_tsc_deadline_far);
    RUN(base_msr_transitions);
    RUN(disable_and_reenable);
    RUN(init_signal_state);
    RUN(accept_nmi_init_sipi);
    RUN(extint_acceptance);
    RUN(lint_inputs);
    RUN(lint_requests);
    RUN(mmio_odd_accesses);
    RUN(route_physical_and_broadcast);
    RUN(route_logical_flat_and_cluster);
    RUN(route_x2apic_cluster);
    RUN(route_shorthands);
    RUN(route_lowest_priority);
    RUN(msi_decode);
    RUN(concurrent_accept);
    return check_finish();
}
