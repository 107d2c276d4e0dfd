/*
 * RDMSR/WRMSR emulation (issue 3): a documented safe set, every other MSR
 * injects #GP(0) as a CPU does for an MSR it does not implement.
 *   0x10  IA32_TSC            read: the host TSC; writes ignored
 *   0x1b  IA32_APIC_BASE      the virtual LAPIC's base, enable and x2APIC bits (vlapic.c)
 *   0x6e0 IA32_TSC_DEADLINE   the LAPIC timer's TSC deadline (vlapic.c)
 *   0x800-0x8ff               x2APIC registers, in x2APIC mode (vlapic.c)
 *   0x8b  IA32_BIOS_SIGN_ID   read 0; writes ignored (microcode update probes)
 *   0xfe  IA32_MTRRCAP        read 0 (no variable or fixed MTRRs)
 *   0x1a0 IA32_MISC_ENABLE    read: fast strings (bit 0); writes ignored
 *   0x277 IA32_PAT            read/write, kept per vCPU (not yet applied to NPT/EPT)
 *   0x2ff IA32_MTRR_DEF_TYPE  read: MTRRs enabled, default type WB; writes ignored
 *   0xc0000080 IA32_EFER      read/write SCE, LME, NXE (LMA is the CPU's); other bits #GP
 *   0xc0000100/101 FS/GS base read/write (canonical, else #GP)
 * (SDM Vol. 4 table 2-2 for the numbers and layouts.)
 */
#include "cpu.h"
#include "virt.h"
#include "vm_exit.h"

#define MSR_TSC           0x10
#define MSR_APIC_BASE_IDX 0x1b
#define MSR_BIOS_SIGN_ID  0x8b
#define MSR_MTRRCAP       0xfe
#define MSR_MISC_ENABLE   0x1a0
#define MSR_PAT           0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER_IDX      0xc0000080u
#define MSR_FS_BASE_IDX   0xc0000100u
#define MSR_GS_BASE_IDX   0xc0000101u

#define MSR_TSC_DEADLINE_IDX 0x6e0
#define MSR_X2APIC_FIRST     0x800 /* SDM Vol. 3A 11.12.1.2 */
#define MSR_X2APIC_LAST      0x8ff
#define MISC_FAST_STRINGS    1ull
#define MTRR_ENABLED_WB      0xc06ull                                   /* E, FE, type 6 */
#define EFER_GUEST_WRITABLE  ((1ull << 0) | (1ull << 8) | (1ull << 11)) /* SCE, LME, NXE */
#define EFER_LMA_BIT         (1ull << 10)
#define VEC_GP               13

static bool canonical(uint64_t a)
{
    uint64_t top = a >> 47;
    return top == 0 || top == 0x1ffff;
}

bool vm_msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
    struct keel_sregs s;
    switch (index) {
    case MSR_TSC:
        *value = rdtsc();
        return true;
    case MSR_APIC_BASE_IDX:
        *value = vlapic_base_msr(&v->lapic);
        return true;
    case MSR_BIOS_SIGN_ID:
    case MSR_MTRRCAP:
        *value = 0;
        return true;
    case MSR_MISC_ENABLE:
        *value = MISC_FAST_STRINGS;
        return true;
    case MSR_PAT:
        *value = v->guest_pat;
        return true;
    case MSR_MTRR_DEF_TYPE:
        *value = MTRR_ENABLED_WB;
        return true;
    case MSR_EFER_IDX:
    case MSR_FS_BASE_IDX:
    case MSR_GS_BASE_IDX:
        virt->get_sregs(v, &s);
        *value = index == MSR_EFER_IDX ? s.efer : index == MSR_FS_BASE_IDX ? s.fs.base : s.gs.base;
        return true;
    default:
        return (index == MSR_TSC_DEADLINE_IDX ||
                (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST)) &&
               vlapic_msr_read(&v->lapic, index, value);
    }
}

static bool write_sregs_msr(struct vcpu *v, uint32_t index, uint64_t value)
{
    struct keel_sregs s;
    virt->get_sregs(v, &s);
    if (index == MSR_EFER_IDX) {
        if (value & ~(EFER_GUEST_WRITABLE | EFER_LMA_BIT))
            return false;
        s.efer = (value & EFER_GUEST_WRITABLE) | (s.efer & EFER_LMA_BIT);
    } else {
        if (!canonical(value))
            return false;
        if (index == MSR_FS_BASE_IDX)
            s.fs.base = value;
        else
            s.gs.base = value;
    }
    return virt->set_sregs(v, &s) == 0;
}

bool vm_msr_write(struct vcpu *v, uint32_t index, uint64_t value)
{
    switch (index) {
    case MSR_APIC_BASE_IDX:
        return vlapic_set_base_msr(&v->lapic, value);
    case MSR_TSC:
    case MSR_BIOS_SIGN_ID:
    case MSR_MISC_ENABLE:
    case MSR_MTRR_DEF_TYPE:
        return true;
    case MSR_PAT:
        v->guest_pat = value;
        return true;
    case MSR_EFER_IDX:
    case MSR_FS_BASE_IDX:
    case MSR_GS_BASE_IDX:
        return write_sregs_msr(v, index, value);
    default:
        return (index == MSR_TSC_DEADLINE_IDX ||
                (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST)) &&
               vlapic_msr_write(&v->lapic, index, value);
    }
}

bool vm_exit_msr(struct vcpu *v, const struct vm_exit *e)
{
    bool ok;
    if (e->reason == VM_EXIT_MSR_READ) {
        uint64_t value = 0;
        ok = vm_msr_read(v, e->msr.index, &value);
        if (ok) {
            v->gprs.rax = (uint32_t)value;
            v->gprs.rdx = value >> 32;
        }
    } else {
        ok = vm_msr_write(v, e->msr.index, e->msr.value);
    }
    if (ok)
        virt->skip_instruction(v, e->insn_len);
    else
        vcpu_queue_exception(v, VEC_GP, true, 0);
    return false;
}
