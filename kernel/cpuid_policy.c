/*
 * Guest CPUID policy: the host's values, minus what Keel does not give
 * guests, plus the hypervisor leaves. Bits per SDM Vol. 2A (CPUID) and AMD
 * APM Vol. 3 appendix E.
 *  - VMX, SMX, SVM, SKINIT: no nested virtualization.
 *  - MONITOR/MWAIT: not intercepted for emulation yet.
 *  - XSAVE and the state components: only x87, SSE, AVX and AVX-512 (the
 *    ones guest_fpu.c switches), OSXSAVE mirroring the guest's CR4, AVX2
 *    with AVX, AVX-512 with its three components; no XSAVES/XFD (leaf 0xd
 *    sub-leaf 1), since supervisor state is not switched.
 *  - x2APIC and the TSC-deadline timer: always, whatever the host has,
 *    since the virtual local APIC (kernel/apic/vlapic.c) emulates both;
 *    APIC (leaf 1 EDX bit 9) likewise.
 *  - leaf 1 EBX[31:24] and leaf 0xB/0x1F EDX: the vCPU's own APIC ID.
 *  - leaf 1 ECX bit 31: hypervisor present; leaf 0x40000000: "KeelKeelKeel"
 *    and the highest hypervisor leaf (the convention KVM and Xen use).
 */
#include "cpuid_policy.h"
#include "guest_fpu.h"
#include "kstring.h"

#define L1_ECX_MONITOR        (1u << 3)
#define L1_ECX_VMX            (1u << 5)
#define L1_ECX_SMX            (1u << 6)
#define L1_ECX_X2APIC         (1u << 21)
#define L1_ECX_TSC_DEADLINE   (1u << 24)
#define L1_ECX_XSAVE          (1u << 26)
#define L1_ECX_OSXSAVE        (1u << 27)
#define L1_ECX_AVX            (1u << 28)
#define L1_ECX_HYPERVISOR     (1u << 31)
#define L1_EDX_APIC           (1u << 9)
#define L7_EBX_AVX2           (1u << 5)
#define L7_EBX_AVX512_MASK    0xdc230000u /* F, DQ, IFMA, PF, ER, CD, BW, VL */
#define L7_ECX_AVX512_MASK    0x00005842u /* VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
#define L7_ECX_WAITPKG        (1u << 5)
#define L7_EDX_AVX512_MASK    0x0080010cu /* 4VNNIW, 4FMAPS, VP2INTERSECT, FP16 */
#define X1_ECX_SVM            (1u << 2)
#define X1_ECX_SKINIT         (1u << 12)
#define LEAF1_APIC_ID_SHIFT   24
#define LD1_EAX_USER_FEATURES 0x7u /* XSAVEOPT, XSAVEC, XGETBV with ECX=1 */

static void keel_leaves(uint32_t leaf, struct cpuid_regs *r)
{
    *r = (struct cpuid_regs){0};
    if (leaf == KEEL_CPUID_SIGNATURE_LEAF) {
        r->eax = KEEL_CPUID_MAX_LEAF;
        memcpy(&r->ebx, "Keel", 4);
        memcpy(&r->ecx, "Keel", 4);
        memcpy(&r->edx, "Keel", 4);
    }
}

static void filter_leaf1(struct cpuid_regs *r, const struct cpuid_guest *g)
{
    r->ecx &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE |
                L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX);
    if (g->xcr0_allowed) {
        r->ecx |= L1_ECX_XSAVE | (g->osxsave ? L1_ECX_OSXSAVE : 0);
        if (g->xcr0_allowed & XCR0_AVX)
            r->ecx |= L1_ECX_AVX;
    }
    r->ecx |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
    r->edx |= L1_EDX_APIC;
    r->ebx = (r->ebx & 0x00ffffffu) | (g->vcpu_id << LEAF1_APIC_ID_SHIFT);
}

static void filter_leaf7(struct cpuid_regs *r, const struct cpuid_guest *g)
{
    r->ecx &= ~L7_ECX_WAITPKG;
    if (!(g->xcr0_allowed & XCR0_AVX))
        r->ebx &= ~L7_EBX_AVX2;
    if (!(g->xcr0_allowed & XCR0_AVX512)) {
        r->ebx &= ~L7_EBX_AVX512_MASK;
        r->ecx &= ~L7_ECX_AVX512_MASK;
        r->edx &= ~L7_EDX_AVX512_MASK;
    }
}

/* Leaf 0xd: the components offered; sizes as the host reports them (EBX of
 * sub-leaf 0 is for the XCR0 in force, which is the guest's at this exit). */
static void filter_xsave_leaf(struct cpuid_regs *r, uint32_t subleaf, const struct cpuid_guest *g)
{
    if (subleaf == 0) {
        r->eax = (uint32_t)g->xcr0_allowed;
        r->edx = (uint32_t)(g->xcr0_allowed >> 32);
    } else if (subleaf == 1) {
        *r = (struct cpuid_regs){.eax = r->eax & LD1_EAX_USER_FEATURES};
    } else if (subleaf >= 64 || !(g->xcr0_allowed & (1ull << subleaf))) {
        *r = (struct cpuid_regs){0};
    }
}

struct cpuid_regs cpuid_policy(uint32_t leaf, uint32_t subleaf, const struct cpuid_guest *g)
{
    struct cpuid_regs r;
    if ((leaf & 0xf0000000u) == 0x40000000u) {
        keel_leaves(leaf, &r);
        return r;
    }
    r = cpuid(leaf, subleaf);
    for (unsigned i = 0; i < g->entry_count; i++) {
        const struct keel_cpuid_entry *e = &g->entries[i];
        if (e->function == leaf &&
            (!(e->flags & KEEL_CPUID_FLAG_SIGNIFICANT_INDEX) || e->index == subleaf)) {
            r = (struct cpuid_regs){e->eax, e->ebx, e->ecx, e->edx};
            break; /* the VMM's values, still filtered below */
        }
    }
    switch (leaf) {
    case 1:
        filter_leaf1(&r, g);
        break;
    case 7:
        if (subleaf == 0)
            filter_leaf7(&r, g);
        break;
    case 0xb:
    case 0x1f:
        r.edx = g->vcpu_id;
        break;
    case 0xd:
        if (g->xcr0_allowed)
            filter_xsave_leaf(&r, subleaf, g);
        else
            r = (struct cpuid_regs){0};
        break;
    case 0x80000001:
        r.ecx &= ~(X1_ECX_SVM | X1_ECX_SKINIT);
        break;
    case 0x8000000a:
        r = (struct cpuid_regs){0};
        break;
    default:
        break;
    }
    return r;
}
