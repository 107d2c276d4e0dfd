/*
 * The virtual local APIC of one vCPU: the xAPIC register page, the x2APIC
 * MSRs, IA32_APIC_BASE, the timer (one-shot, periodic, TSC-deadline),
 * interrupt priorities and acceptance (SDM Vol. 3A chapter 11, "Advanced
 * Programmable Interrupt Controller (APIC)"; chapter 10 in editions before
 * 2023, with the same section numbers after the chapter). Files: vlapic.c
 * (state, priorities, acceptance, IA32_APIC_BASE), vlapic_timer.c,
 * vlapic_regs.c (MMIO and MSR access), vlapic_route.c (destinations among
 * one VM's LAPICs, MSI decoding).
 *
 * Pure logic: time, the TSC, host timers and IPIs come from struct vlapic_env,
 * supplied by the core.
 *
 * Concurrency: every function is for the owning vCPU's thread only, except
 * vlapic_accept() and vlapic_route(), which any CPU may call at any time
 * without a lock. They touch only IRR/TMR words, the ESR latch, the pending
 * NMI/INIT/SIPI flags and the counters, all with __atomic builtins; the
 * registers that routing reads on another LAPIC (ID, LDR, DFR, SVR, TPR,
 * ISR, IRR, the base MSR) are stored with relaxed atomics, so a reader sees
 * an old or a new value, never a torn one.
 */
#ifndef KEEL_APIC_VLAPIC_H
#define KEEL_APIC_VLAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VLAPIC_BUS_HZ       1000000000ull /* timer input clock: 1 count per ns at divide 1 (as KVM) */
#define VLAPIC_DEFAULT_BASE 0xfee00000ull /* IA32_APIC_BASE after reset (SDM 11.4.4) */
#define VLAPIC_PAGE_SIZE    0x1000u       /* the xAPIC register page (SDM 11.4.1) */

/* MSRs (SDM Vol. 4 table 2-2; x2APIC range: SDM 11.12.1.2). Keel handles
 * 0x800-0x8ff; the SDM reserves up to 0xbff. */
#define VLAPIC_MSR_APIC_BASE    0x01bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u
#define VLAPIC_MSR_X2APIC_FIRST 0x800u
#define VLAPIC_MSR_X2APIC_LAST  0x8ffu

/* IA32_APIC_BASE bits (SDM 11.4.4 figure 11-5, 11.12.1 for EXTD). */
#define VLAPIC_BASE_BSP  (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)
#define VLAPIC_BASE_EN   (1ull << 11)

/* Register offsets in the xAPIC page (SDM 11.4.1 table 11-1); x2APIC MSR
 * 0x800 + n is offset n << 4 (SDM 11.12.1.2 table 11-6). */
#define VLAPIC_REG_ID          0x020u
#define VLAPIC_REG_VERSION     0x030u
#define VLAPIC_REG_TPR         0x080u
#define VLAPIC_REG_APR         0x090u
#define VLAPIC_REG_PPR         0x0a0u
#define VLAPIC_REG_EOI         0x0b0u
#define VLAPIC_REG_RRD         0x0c0u
#define VLAPIC_REG_LDR         0x0d0u
#define VLAPIC_REG_DFR         0x0e0u
#define VLAPIC_REG_SVR         0x0f0u
#define VLAPIC_REG_ISR         0x100u /* 8 registers, 0x100-0x170 */
#define VLAPIC_REG_TMR         0x180u /* 8 registers, 0x180-0x1f0 */
#define VLAPIC_REG_IRR         0x200u /* 8 registers, 0x200-0x270 */
#define VLAPIC_IRR_WORDS       8u     /* ... at a 16-byte stride: regs[] index +4 each */
#define VLAPIC_REG_ESR         0x280u
#define VLAPIC_REG_LVT_CMCI    0x2f0u /* absent in Keel's model (max LVT entry 5) */
#define VLAPIC_REG_ICR_LO      0x300u
#define VLAPIC_REG_ICR_HI      0x310u
#define VLAPIC_REG_LVT_TIMER   0x320u
#define VLAPIC_REG_LVT_THERMAL 0x330u
#define VLAPIC_REG_LVT_PERF    0x340u
#define VLAPIC_REG_LVT_LINT0   0x350u
#define VLAPIC_REG_LVT_LINT1   0x360u
#define VLAPIC_REG_LVT_ERROR   0x370u
#define VLAPIC_REG_TIMER_INIT  0x380u
#define VLAPIC_REG_TIMER_CUR   0x390u
#define VLAPIC_REG_TIMER_DIV   0x3e0u
#define VLAPIC_REG_SELF_IPI    0x3f0u /* x2APIC only (SDM 11.12.11) */
#define VLAPIC_REG_END         0x400u /* every offset from here to 0xfff is reserved */

/* Version register (SDM 11.4.8): version 0x14 (an integrated APIC), max LVT
 * entry 5 in bits 23:16 (timer, thermal, perf, LINT0, LINT1, error; no
 * CMCI), bit 24 (directed EOI) clear. */
#define VLAPIC_VERSION_VALUE 0x00050014u

/* LVT bits (SDM 11.5.1 figure 11-8). */
#define VLAPIC_LVT_VECTOR         0xffu
#define VLAPIC_LVT_DM_SHIFT       8
#define VLAPIC_LVT_DM_MASK        (7u << 8)
#define VLAPIC_LVT_REMOTE_IRR     (1u << 14)
#define VLAPIC_LVT_LEVEL          (1u << 15)
#define VLAPIC_LVT_MASKED         (1u << 16)
#define VLAPIC_LVT_TIMER_SHIFT    17
#define VLAPIC_TIMER_ONESHOT      0u
#define VLAPIC_TIMER_PERIODIC     1u
#define VLAPIC_TIMER_TSC_DEADLINE 2u

/* SVR (SDM 11.9 figure 11-23). */
#define VLAPIC_SVR_ENABLE (1u << 8)

/* ESR bits (SDM 11.5.3 figure 11-9). */
#define VLAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REGISTER    (1u << 7)

enum {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7
};
enum { APIC_SH_NONE = 0, APIC_SH_SELF = 1, APIC_SH_ALL = 2, APIC_SH_OTHERS = 3 };

struct vlapic;
struct vlapic_irq {
    uint8_t vector;
    uint8_t delivery_mode; /* APIC_DM_* */
    bool logical;          /* destination mode */
    bool level_trigger;    /* trigger mode: level */
    bool assert;           /* level: assert (an INIT level de-assert is ignored, SDM 11.6.1) */
    uint8_t shorthand;     /* APIC_SH_* */
    uint32_t dest;         /* xAPIC: 8-bit destination; x2APIC: 32-bit */
    bool x2apic_format;    /* dest is in x2APIC format (sender in x2APIC mode) */
    const struct vlapic *source; /* the sending LAPIC, NULL for MSIs */
};
/* Supplied by the core, per vCPU; called on the owner's thread only. */
struct vlapic_env {
    void *ctx;
    uint64_t (*now_ns)(void *ctx);   /* monotonic nanoseconds */
    uint64_t (*read_tsc)(void *ctx); /* the guest's TSC now */
    uint64_t tsc_khz;                /* its rate (0: taken as 1 GHz) */
    /* Wake/exit the vCPU at that time; replaces the previous one. */
    void (*timer_arm)(void *ctx, uint64_t deadline_ns);
    void (*timer_cancel)(void *ctx);
    /* An ICR or SELF_IPI write other than to self only: the core routes it
     * with vlapic_route. */
    void (*send_ipi)(void *ctx, const struct vlapic_irq *irq);
    /* EOI of a vector whose TMR bit was set (the IOAPIC needs it). */
    void (*eoi_level)(void *ctx, uint8_t vector);
};
struct vlapic_counters {
    uint64_t timer_interrupts, ipis_sent, ipis_received, nmis, inits, sipis;
};

/* Timer state (SDM 11.5.4). Owner-only. */
struct vlapic_timer {
    uint64_t deadline_ns;  /* one-shot/periodic: next expiry; TSC-deadline: tsc_deadline in ns */
    uint64_t period_ns;    /* initial count x divisor ns (periodic: at least the minimum) */
    uint64_t tsc_deadline; /* IA32_TSC_DEADLINE; 0: disarmed */
    uint64_t armed_ns;     /* what env.timer_arm was last given */
    uint32_t divisor;      /* 1..128, from the divide configuration register */
    bool running;          /* a one-shot/periodic count is in progress */
    bool host_armed;       /* env.timer_arm given and neither cancelled nor passed */
};

#define VLAPIC_REG_WORDS (VLAPIC_REG_END / 4)

struct vlapic {
    uint32_t regs[VLAPIC_REG_WORDS];   /* offsets 0x000-0x3ff, 32-bit registers at 16-byte stride */
    uint64_t base_msr;                 /* IA32_APIC_BASE */
    uint32_t apic_id;                  /* fixed at vlapic_init */
    uint32_t esr_latch;                /* errors since the last ESR write (SDM 11.5.3), atomic */
    uint32_t sipi_pending;             /* 0, or VLAPIC_SIPI_PENDING | vector, atomic */
    uint8_t nmi_pending, init_pending; /* atomic */
    bool lint_level[2];                /* LINT0/LINT1 input levels */
    uint32_t lint_request;             /* vlapic_request_lint's record, atomic */
    struct vlapic_timer timer;
    struct vlapic_env env;
    struct vlapic_counters counters; /* updated with atomic adds */
};
#define VLAPIC_SIPI_PENDING 0x100u

/* Power-on state (SDM 11.4.7.1, 11.12.5.1): ID apic_id, base MSR
 * 0xfee00000|EN|(bsp?BSP:0), xAPIC mode, software-disabled (SVR 0xff), LVTs
 * masked. Copies *env. Calls no env function. */
void vlapic_init(struct vlapic *a, uint32_t apic_id, bool bsp, const struct vlapic_env *env);
/* INIT (SDM 11.4.7.3): as power-on but ID, base MSR (so the mode) are kept;
 * a pending NMI is dropped; pending INIT/SIPI flags are kept. Owner only. */
void vlapic_init_signal(struct vlapic *a);
/* Optional, for the BSP after vlapic_init/vlapic_init_signal: the state PC
 * firmware leaves (virtual wire mode, MP spec 1.4 section 3.6.2.2; KVM's
 * LINT0 quirk): LVT LINT0 ExtINT unmasked, LVT LINT1 NMI unmasked, so a guest
 * without firmware gets the 8259's interrupts. */
void vlapic_set_virtual_wire(struct vlapic *a);

/* ---- called by the vCPU's own thread ---- */

/* offset within the 4 KiB page, size 1, 2, 4 or 8. false: not handled (not
 * in xAPIC mode, bad size or offset); the caller makes it "nothing there".
 * Aligned 32-bit accesses at a 16-byte boundary reach the register; other
 * reads return the register bytes they cover (zeros elsewhere), other
 * writes are ignored. Reserved registers read 0, ignore writes and latch
 * ESR "illegal register address". */
bool vlapic_mmio_read(struct vlapic *a, uint32_t offset, unsigned size, uint64_t *value);
bool vlapic_mmio_write(struct vlapic *a, uint32_t offset, unsigned size, uint64_t value);
/* 0x800-0x8ff (x2APIC mode only) and IA32_TSC_DEADLINE 0x6e0; false: the
 * core injects #GP (reserved MSR, read of a write-only or write of a
 * read-only register, non-zero reserved bits: SDM 11.12.1.2, 11.12.1.3). */
bool vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *value);
bool vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t value);
uint64_t vlapic_base_msr(const struct vlapic *a);
/* IA32_APIC_BASE 0x1b: false -> #GP (reserved bits, invalid mode transition
 * SDM 11.12.5). The BSP flag is read-only (writes of it are ignored). */
bool vlapic_set_base_msr(struct vlapic *a, uint64_t value);
/* Globally enabled in xAPIC mode and gpa inside its 4 KiB page. */
bool vlapic_in_xapic_page(const struct vlapic *a, uint64_t gpa);
/* Fires the timer if due (now_ns / read_tsc), re-arms periodic, and keeps
 * env->timer_arm in step. Call it when the host timer expired and before
 * looking for a pending vector. */
void vlapic_timer_poll(struct vlapic *a);
/* The highest IRR vector whose priority class is above PPR's (SDM 11.8.3.1),
 * or -1. Software-disabled LAPICs still report IRR: "pending interrupts in
 * the IRR and ISR are held and require masking or handling by the CPU"
 * (SDM 11.4.7.2). Globally disabled: -1. */
int vlapic_pending_vector(const struct vlapic *a);
/* The core injected vector: IRR -> ISR, so PPR rises (SDM 11.8.4). */
void vlapic_ack(struct vlapic *a, uint8_t vector);
bool vlapic_take_nmi(struct vlapic *a); /* consume a pending NMI */
bool vlapic_take_init(struct vlapic *a);
int vlapic_take_sipi(struct vlapic *a); /* consume a pending start-up vector, -1 none */
/* Anything that would wake a halted CPU with IF=1: a pending vector, NMI,
 * INIT, SIPI. */
bool vlapic_has_event(const struct vlapic *a);
/* Globally disabled, or LVT LINT0 unmasked with delivery mode ExtINT. */
bool vlapic_accepts_extint(const struct vlapic *a);
/* A host timer is armed for this LAPIC (an unmasked timer will fire). */
bool vlapic_timer_armed(const struct vlapic *a);
/* LINT0/LINT1 input (level = asserted; the polarity bit is not applied).
 * Per the LVT entry: fixed -> IRR (edge: on a rising edge; LINT0 level:
 * while asserted and Remote IRR clear), NMI/INIT -> pending on a rising
 * edge, ExtINT/SMI/masked -> nothing. Globally disabled: LINT1 is the NMI
 * pin, LINT0 does nothing here (ExtINT comes through the core). */
void vlapic_lint(struct vlapic *a, unsigned pin, bool level);
/* Any CPU: asks for vlapic_lint(pin, level) to happen on the owner's thread
 * (vlapic_apply_lint_requests); a rise that is undone before the owner
 * gets to it is still seen as an edge. The caller then kicks the owner. */
void vlapic_request_lint(struct vlapic *a, unsigned pin, bool level);
void vlapic_apply_lint_requests(struct vlapic *a);

/* Cheap looks for the owner's run loop (plain loads; a sender that changes
 * them afterwards also kicks the owner). */
#define VLAPIC_LINT_CHANGED 0x100u
static inline bool vlapic_owner_work_pending(const struct vlapic *a)
{
    return __atomic_load_n(&a->init_pending, __ATOMIC_RELAXED) ||
           __atomic_load_n(&a->sipi_pending, __ATOMIC_RELAXED) ||
           (__atomic_load_n(&a->lint_request, __ATOMIC_RELAXED) & VLAPIC_LINT_CHANGED);
}
static inline bool vlapic_nmi_pending(const struct vlapic *a)
{
    return __atomic_load_n(&a->nmi_pending, __ATOMIC_RELAXED);
}
static inline bool vlapic_irr_empty(const struct vlapic *a)
{
    uint32_t any = 0;
    for (unsigned w = 0; w < VLAPIC_IRR_WORDS; w++)
        any |= __atomic_load_n(&a->regs[(VLAPIC_REG_IRR >> 2) + w * 4], __ATOMIC_RELAXED);
    return !any;
}
uint8_t vlapic_tpr(const struct vlapic *a); /* for CR8 (CR8 = TPR >> 4) */
void vlapic_set_tpr(struct vlapic *a, uint8_t tpr);
uint32_t vlapic_id(const struct vlapic *a);
const struct vlapic_counters *vlapic_counters(const struct vlapic *a);

/* ---- state readers; any CPU (used by vlapic_route) ---- */
bool vlapic_hw_enabled(const struct vlapic *a); /* IA32_APIC_BASE.EN */
bool vlapic_x2apic_mode(const struct vlapic *a);
bool vlapic_sw_enabled(const struct vlapic *a); /* SVR bit 8 */
uint32_t vlapic_ldr(const struct vlapic *a);
uint32_t vlapic_dfr(const struct vlapic *a);
/* The arbitration priority of lowest-priority delivery, computed as the
 * APR of SDM 11.6.2.4 (the APR register itself reads 0, as on KVM). */
uint8_t vlapic_arbitration_priority(const struct vlapic *a);

/* ---- may be called from ANY CPU while the owner runs ---- */

/* Delivers irq to this LAPIC (destination already matched): fixed/lowest
 * -> IRR (+TMR for level; vector < 16: ESR receive illegal vector instead),
 * NMI/INIT/SIPI -> pending flags (SIPI only recorded). Returns true when
 * something new became pending (the core then kicks the owner).
 * Dropped: everything when globally disabled; fixed/lowest when software-
 * disabled (SDM 11.4.7.2: it "will respond normally to INIT, NMI, SMI, and
 * start-up messages", not to others); level de-asserts; SMI, ExtINT and
 * reserved modes. */
bool vlapic_accept(struct vlapic *a, const struct vlapic_irq *irq);

/* vlapic_route.c: which of a VM's LAPICs irq goes to (SDM 11.6.2; x2APIC
 * 11.12.9, 11.12.10). Calls vlapic_accept on each target and writes those
 * that returned true to targets[] (room for count entries); returns their
 * number. Globally disabled LAPICs match nothing. Lowest priority: the
 * matching software-enabled LAPIC with the lowest arbitration priority, ties
 * to the lowest index in apics[]. */
unsigned vlapic_route(struct vlapic *const *apics, unsigned count, const struct vlapic_irq *irq,
                      struct vlapic **targets);
/* MSI (SDM 11.11): address/data -> irq (dest bits 19:12, DM bit 2
 * (logical), RH bit 3 (fixed becomes lowest priority); data vector 7:0,
 * delivery mode 10:8, level 14, trigger 15). false for a malformed address
 * (not 0x00000000feexxxxx). */
bool vlapic_msi_to_irq(uint64_t address, uint32_t data, struct vlapic_irq *irq);

#endif
