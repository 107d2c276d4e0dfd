/*
 * Guest CPUID policy: the host's values, minus what Keel does not give
 * guests, plus the hypervisor leaves. Bits per SDM Vol. 2A (CPUID) and AMD
 * APM Vol. 3 appendix E.
 *  - VMX, SMX, SVM, SKINIT: no nested virtualization.
 *  - MONITOR/MWAIT: not intercepted for emulation yet.
 *  - XSAVE, OSXSAVE, AVX and the AVX2/AVX-512 family: the core saves guest
 *    state with FXSAVE (x87 and SSE) until XCR0 switching is in place.
 *  - x2APIC, TSC-deadline: there is no virtual local APIC yet.
 *  - leaf 1 EBX[31:24] and leaf 0xB/0x1F EDX: the vCPU's own APIC ID.
 *  - leaf 1 ECX bit 31: hypervisor present; leaf 0x40000000: "KeelKeelKeel"
 *    and the highest hypervisor leaf (the convention KVM and Xen use).
 */
#include "cpuid_policy.h"
#include "kstring.h"

#define L1_ECX_MONITOR      (1u << 3)
#define L1_ECX_VMX          (1u << 5)
#define L1_ECX_SMX          (1u << 6)
#define L1_ECX_X2APIC       (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_XSAVE        (1u << 26)
#define L1_ECX_OSXSAVE      (1u << 27)
#define L1_ECX_AVX          (1u << 28)
#define L1_ECX_HYPERVISOR   (1u << 31)
#define L7_EBX_AVX2         (1u << 5)
#define L7_EBX_AVX512_MASK  0xdc230000u /* F, DQ, IFMA, PF, ER, CD, BW, VL */
#define L7_ECX_AVX512_MASK  0x00005842u /* VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
#define L7_ECX_WAITPKG      (1u << 5)
#define L7_EDX_AVX512_MASK  0x0080010cu /* 4VNNIW, 4FMAPS, VP2INTERSECT, FP16 */
#define X1_ECX_SVM          (1u << 2)
#define X1_ECX_SKINIT       (1u << 12)
#define LEAF1_APIC_ID_SHIFT 24

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

struct cpuid_regs cpuid_policy(uint32_t leaf, uint32_t subleaf, unsigned vcpu_id)
{
    struct cpuid_regs r;
    if ((leaf & 0xf0000000u) == 0x40000000u) {
        keel_leaves(leaf, &r);
        return r;
    }
    r = cpuid(leaf, subleaf);
    switch (leaf) {
    case 1:
        r.ecx &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE |
                   L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX);
        r.ecx |= L1_ECX_HYPERVISOR;
        r.ebx = (r.ebx & 0x00ffffffu) | (vcpu_id << LEAF1_APIC_ID_SHIFT);
        break;
    case 7:
        if (subleaf == 0) {
            r.ebx &= ~(L7_EBX_AVX2 | L7_EBX_AVX512_MASK);
            r.ecx &= ~(L7_ECX_AVX512_MASK | L7_ECX_WAITPKG);
            r.edx &= ~L7_EDX_AVX512_MASK;
        }
        break;
    case 0xb:
    case 0x1f:
        r.edx = vcpu_id;
        break;
    case 0xd:
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
