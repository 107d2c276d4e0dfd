/*
 * Interrupt routing among one VM's virtual LAPICs (SDM Vol. 3A 11.6.2 for
 * xAPIC destinations, 11.12.10 for x2APIC ones) and the decoding of MSIs
 * (SDM 11.11). Lock-free: any CPU may route; each target takes the
 * interrupt through vlapic_accept.
 *
 * Decisions where the SDM leaves room:
 *  - Destinations are matched against each target's own mode: a physical
 *    destination is compared with the APIC ID (8 bits of it in xAPIC
 *    format); a logical one with the target's LDR, read as flat or cluster
 *    through its DFR in xAPIC mode and as an x2APIC cluster in x2APIC mode.
 *    So a BSP in x2APIC mode reaches APs still in xAPIC mode (INIT/SIPI).
 *  - 0xff (xAPIC format) and 0xffffffff (x2APIC format) are broadcasts in
 *    physical and logical mode alike (as KVM).
 *  - Lowest priority: among the matching software-enabled LAPICs, the one
 *    with the lowest arbitration priority (the APR formula of SDM 11.6.2.4,
 *    from TPR, ISR and IRR); ties go to the lowest index in apics[]. No focus
 *    processor check. It applies to shorthands and broadcasts too.
 */
#include "apic/vlapic_internal.h"
#include "kstring.h"

#define XAPIC_DEST_MASK       0xffu
#define XAPIC_BROADCAST       0xffu       /* SDM 11.6.2.1 */
#define X2APIC_BROADCAST      0xffffffffu /* SDM 11.12.10 */
#define XAPIC_LOGICAL_SHIFT   24          /* logical APIC ID in LDR bits 31:24 (SDM 11.6.2.2) */
#define DFR_MODEL_SHIFT       28          /* DFR bits 31:28: 1111b flat, 0000b cluster */
#define DFR_MODEL_CLUSTER     0x0u
#define XAPIC_CLUSTER_SHIFT   4 /* cluster model: cluster in bits 7:4, members 3:0 */
#define XAPIC_CLUSTER_MEMBERS 0x0fu
#define X2APIC_CLUSTER_SHIFT  16 /* x2APIC logical ID: cluster 31:16, members 15:0 (11.12.10.2) */
#define X2APIC_MEMBERS        0xffffu

/* MSI address and data (SDM 11.11.1, 11.11.2). */
#define MSI_ADDR_BASE_MASK  0xfffffffffff00000ull /* bits 63:20 must be 0x00000000fee */
#define MSI_ADDR_BASE       0x00000000fee00000ull
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_DEST_MASK  0xffu
#define MSI_ADDR_LOGICAL    (1u << 2)
#define MSI_ADDR_RH         (1u << 3)
#define MSI_DATA_VECTOR     0xffu
#define MSI_DATA_DM_SHIFT   8
#define MSI_DATA_DM_MASK    7u
#define MSI_DATA_ASSERT     (1u << 14)
#define MSI_DATA_LEVEL      (1u << 15)

static bool is_broadcast(const struct vlapic_irq *irq)
{
    return irq->x2apic_format ? irq->dest == X2APIC_BROADCAST
                              : (irq->dest & XAPIC_DEST_MASK) == XAPIC_BROADCAST;
}

static bool match_physical(const struct vlapic *t, const struct vlapic_irq *irq)
{
    uint32_t dest = irq->x2apic_format ? irq->dest : irq->dest & XAPIC_DEST_MASK;
    return vlapic_id(t) == dest;
}

/* SDM 11.6.2.2 (flat and cluster models), 11.12.10.1 (x2APIC cluster). */
static bool match_logical(const struct vlapic *t, const struct vlapic_irq *irq)
{
    uint32_t ldr = vlapic_ldr(t);
    if (vlapic_x2apic_mode(t))
        return (irq->dest >> X2APIC_CLUSTER_SHIFT) == (ldr >> X2APIC_CLUSTER_SHIFT) &&
               (irq->dest & ldr & X2APIC_MEMBERS) != 0;
    uint32_t dest = irq->dest & XAPIC_DEST_MASK, id = ldr >> XAPIC_LOGICAL_SHIFT;
    if ((vlapic_dfr(t) >> DFR_MODEL_SHIFT) != DFR_MODEL_CLUSTER)
        return (dest & id) != 0;
    return (dest >> XAPIC_CLUSTER_SHIFT) == (id >> XAPIC_CLUSTER_SHIFT) &&
           (dest & id & XAPIC_CLUSTER_MEMBERS) != 0;
}

static bool matches(const struct vlapic *t, const struct vlapic_irq *irq)
{
    if (!vlapic_hw_enabled(t))
        return false;
    switch (irq->shorthand) {
    case APIC_SH_SELF:
        return t == irq->source;
    case APIC_SH_ALL:
        return true;
    case APIC_SH_OTHERS:
        return t != irq->source;
    default:
        if (is_broadcast(irq))
            return true;
        return irq->logical ? match_logical(t, irq) : match_physical(t, irq);
    }
}

unsigned vlapic_route(struct vlapic *const *apics, unsigned count, const struct vlapic_irq *irq,
                      struct vlapic **targets)
{
    bool lowest = irq->delivery_mode == APIC_DM_LOWEST;
    struct vlapic *best = NULL;
    uint8_t best_prio = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < count; i++) {
        struct vlapic *t = apics[i];
        if (t == NULL || !matches(t, irq))
            continue;
        if (!lowest) {
            if (vlapic_accept(t, irq))
                targets[n++] = t;
            continue;
        }
        if (!vlapic_sw_enabled(t))
            continue;
        uint8_t prio = vlapic_arbitration_priority(t);
        if (best == NULL || prio < best_prio) {
            best = t;
            best_prio = prio;
        }
    }
    if (best != NULL && vlapic_accept(best, irq))
        targets[n++] = best;
    return n;
}

/* RH=1 asks for redirection: a fixed MSI becomes lowest priority among the
 * destinations (SDM 11.11.1). The DM bit is used whatever RH says (as KVM).
 * An edge-triggered MSI always asserts (bit 14 matters for level only). */
bool vlapic_msi_to_irq(uint64_t address, uint32_t data, struct vlapic_irq *irq)
{
    if ((address & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE)
        return false;
    memset(irq, 0, sizeof(*irq));
    irq->dest = (uint32_t)(address >> MSI_ADDR_DEST_SHIFT) & MSI_ADDR_DEST_MASK;
    irq->logical = address & MSI_ADDR_LOGICAL;
    irq->vector = (uint8_t)(data & MSI_DATA_VECTOR);
    irq->delivery_mode = (uint8_t)((data >> MSI_DATA_DM_SHIFT) & MSI_DATA_DM_MASK);
    irq->level_trigger = data & MSI_DATA_LEVEL;
    irq->assert = !irq->level_trigger || (data & MSI_DATA_ASSERT);
    irq->shorthand = APIC_SH_NONE;
    if ((address & MSI_ADDR_RH) && irq->delivery_mode == APIC_DM_FIXED)
        irq->delivery_mode = APIC_DM_LOWEST;
    return true;
}
