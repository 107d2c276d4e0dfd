/*
 * Control-register access exits (SDM Vol. 3C 26.1.3, qualification in 28.2.1
 * table 28-3), handled inside the backend and never surfaced:
 *  - MOV to CR0 / CLTS / LMSW that change a host-owned CR0 bit (NE, which
 *    VMX fixes to 1): emulated as the instruction would run natively (SDM
 *    Vol. 3A 2.5 faults, 10.8.5 entering and leaving IA-32e mode, 4.4.1 PDPTE
 *    loads); the guest reads back what it wrote through the read shadow.
 *  - MOV to CR4 setting VMXE or a bit the CPU lacks: #GP, as on a CPU
 *    without VMX (VMXE stays hidden in the mask with shadow 0).
 *  - MOV to/from CR8: the guest's task priority, its virtual LAPIC's TPR
 *    (the CR8 exits keep the guest away from the host's TPR).
 */
#include <stddef.h>

#include "cpu.h"
#include "traps.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define GPR_RSP       4      /* table 28-3 register numbering: 0 RAX, 1 RCX, ... */
#define LMSW_BITS     0xfull /* LMSW loads PE, MP, EM, TS; it cannot clear PE */
#define CR8_MAX       15
#define CR8_TPR_SHIFT 4 /* CR8 is TPR bits 7:4 (SDM Vol. 3A 10.8.6.1) */
#define CR4_PSE       (1ull << 4)
#define TSS16_BUSY    3 /* system segment types (SDM Vol. 3A table 3-2) */
#define TSS_BUSY      11
#define PAGING_BITS   (CR0_PG | CR0_PE | CR0_WP)

/* Table 28-3 numbering to struct guest_gprs; RSP lives in the VMCS. */
static const uint8_t gpr_offset[16] = {
    offsetof(struct guest_gprs, rax),
    offsetof(struct guest_gprs, rcx),
    offsetof(struct guest_gprs, rdx),
    offsetof(struct guest_gprs, rbx),
    0 /* RSP */,
    offsetof(struct guest_gprs, rbp),
    offsetof(struct guest_gprs, rsi),
    offsetof(struct guest_gprs, rdi),
    offsetof(struct guest_gprs, r8),
    offsetof(struct guest_gprs, r9),
    offsetof(struct guest_gprs, r10),
    offsetof(struct guest_gprs, r11),
    offsetof(struct guest_gprs, r12),
    offsetof(struct guest_gprs, r13),
    offsetof(struct guest_gprs, r14),
    offsetof(struct guest_gprs, r15),
};

static uint64_t *gpr_slot(struct vcpu *v, unsigned n)
{
    return (uint64_t *)((char *)&v->gprs + gpr_offset[n & 15]);
}

static uint64_t read_gpr(struct vcpu *v, unsigned n)
{
    return n == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : *gpr_slot(v, n);
}

static void write_gpr(struct vcpu *v, unsigned n, uint64_t value)
{
    if (n == GPR_RSP)
        vmcs_write(VMCS_GUEST_RSP, value);
    else
        *gpr_slot(v, n) = value;
}

/* Long mode turns on when PG is set with EFER.LME (needs CR4.PAE) and off
 * when PG is cleared outside 64-bit code (10.8.5). Returns false for #GP. */
static bool next_efer(uint64_t old_cr0, uint64_t cr0, uint64_t efer, uint64_t *out)
{
    *out = efer;
    if (!(old_cr0 & CR0_PG) && (cr0 & CR0_PG) && (efer & EFER_LME)) {
        if (!(vmx_guest_cr4() & CR4_PAE))
            return false;
        *out = efer | EFER_LMA;
    } else if ((old_cr0 & CR0_PG) && !(cr0 & CR0_PG) && (efer & EFER_LMA)) {
        if (vmx_guest_64bit_code())
            return false;
        *out = efer & ~EFER_LMA;
    }
    return true;
}

/* VM entry into IA-32e mode wants a 64-bit busy TSS in TR (27.3.1.2); a
 * 16-bit busy TSS left from protected mode becomes one, as KVM does. */
static void make_tr_64bit(void)
{
    uint64_t ar = vmcs_read(VMCS_SEG_AR(SEG_TR));
    if ((ar & AR_TYPE_MASK) == TSS16_BUSY)
        vmcs_write(VMCS_SEG_AR(SEG_TR), (ar & ~(uint64_t)AR_TYPE_MASK) | TSS_BUSY);
}

/* MOV to CR0 as the CPU does it. Returns false when it faults (#GP). */
static bool emulate_cr0_write(struct vcpu *v, struct vmx_vcpu *x, uint64_t cr0)
{
    const struct vmx_config *k = &vmx_config;
    uint64_t old = vmx_guest_cr0(), efer = vmcs_read(VMCS_GUEST_EFER), new_efer;
    if ((cr0 >> 32) || (cr0 & ~k->cr0_fixed1))
        return false;
    if (((cr0 & CR0_PG) && !(cr0 & CR0_PE)) || ((cr0 & CR0_NW) && !(cr0 & CR0_CD)))
        return false;
    if (!next_efer(old, cr0, efer, &new_efer))
        return false;
    /* PAE paging outside long mode: the PDPTEs are loaded when PG, CD or NW
     * change (4.4.1). */
    bool pae_paging = (cr0 & CR0_PG) && (vmx_guest_cr4() & CR4_PAE) && !(new_efer & EFER_LMA);
    if (pae_paging && ((old ^ cr0) & (CR0_PG | CR0_CD | CR0_NW)) &&
        vmx_load_pdptes(v, vmcs_read(VMCS_GUEST_CR3)) != 0)
        return false;
    vmcs_write(VMCS_GUEST_CR0, cr0 | k->cr0_fixed0);
    vmcs_write(VMCS_CR0_SHADOW, cr0);
    if (new_efer != efer) {
        vmcs_write(VMCS_GUEST_EFER, new_efer);
        vmx_set_ia32e_mode(new_efer & EFER_LMA); /* must match EFER.LMA (27.3.1.1) */
        if (new_efer & EFER_LMA)
            make_tr_64bit();
    }
    if ((old ^ cr0) & PAGING_BITS)
        x->flush_pending = true; /* a native write would flush the TLB (4.10.4.1) */
    return true;
}

/* MOV to CR4 that touched a host-owned bit: VMXE (hidden from the guest) or
 * one the CPU does not allow (A.8) faults as natively; anything else (no
 * CPU today has other CR4 bits fixed to 1) is written through. */
static bool emulate_cr4_write(struct vcpu *v, struct vmx_vcpu *x, uint64_t cr4)
{
    const struct vmx_config *k = &vmx_config;
    uint64_t old = vmx_guest_cr4(), cr0 = vmx_guest_cr0();
    bool lma = vmcs_read(VMCS_GUEST_EFER) & EFER_LMA;
    if ((cr4 & CR4_VMXE) || (cr4 & ~k->cr4_fixed1) || (lma && !(cr4 & CR4_PAE)))
        return false;
    if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !lma &&
        ((old ^ cr4) & (CR4_PAE | CR4_PSE | CR4_PGE)) &&
        vmx_load_pdptes(v, vmcs_read(VMCS_GUEST_CR3)) != 0)
        return false;
    vmcs_write(VMCS_GUEST_CR4, cr4 | k->cr4_fixed0);
    vmcs_write(VMCS_CR4_SHADOW, cr4);
    x->flush_pending = true;
    return true;
}

static bool emulate_mov_to_cr(struct vcpu *v, struct vmx_vcpu *x, unsigned cr, uint64_t value,
                              bool *ok)
{
    if (!vmx_guest_64bit_code())
        value = (uint32_t)value; /* 32-bit operand outside 64-bit mode */
    if (cr == 0) {
        *ok = emulate_cr0_write(v, x, value);
    } else if (cr == 4) {
        *ok = emulate_cr4_write(v, x, value);
    } else if (cr == 8) {
        *ok = value <= CR8_MAX; /* reserved bits 63:4 (Vol. 3A 10.8.6.1) */
        if (*ok)
            vlapic_set_tpr(&v->lapic, (uint8_t)(value << CR8_TPR_SHIFT));
    } else {
        return false;
    }
    return true;
}

bool vmx_handle_cr_access(struct vcpu *v, struct vmx_vcpu *x, uint64_t qualification,
                          uint32_t insn_len)
{
    unsigned cr = qualification & CRQ_CR_MASK;
    unsigned type = (qualification >> CRQ_TYPE_SHIFT) & CRQ_TYPE_MASK;
    unsigned gpr = (qualification >> CRQ_GPR_SHIFT) & CRQ_GPR_MASK;
    uint64_t lmsw = (qualification >> CRQ_LMSW_SHIFT) & CRQ_LMSW_MASK;
    bool ok = true;
    switch (type) {
    case CRQ_TYPE_MOV_TO:
        if (!emulate_mov_to_cr(v, x, cr, read_gpr(v, gpr), &ok))
            return false;
        break;
    case CRQ_TYPE_MOV_FROM:
        if (cr != 8)
            return false;
        write_gpr(v, gpr, vlapic_tpr(&v->lapic) >> CR8_TPR_SHIFT);
        break;
    case CRQ_TYPE_CLTS:
        ok = emulate_cr0_write(v, x, vmx_guest_cr0() & ~CR0_TS);
        break;
    default: /* LMSW: bits 3:1 replaced, PE only set (Vol. 2, LMSW) */
        ok = emulate_cr0_write(v, x,
                               (vmx_guest_cr0() & ~(LMSW_BITS & ~CR0_PE)) | (lmsw & LMSW_BITS));
        break;
    }
    if (ok)
        vmx_advance_rip(insn_len);
    else
        vmx_queue_exception(x, VEC_GP_FAULT, 0);
    return true;
}
