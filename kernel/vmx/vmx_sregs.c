/*
 * set_sregs for VT-x: a trust boundary (the values come from the VMM
 * partition). Checks what the architecture forbids and what VM entry would
 * refuse among the control registers, EFER and segments (SDM Vol. 3C
 * 27.3.1.1 and 27.3.1.2, Vol. 3A 2.5 and 10.8.5) and returns -1 with nothing
 * changed; otherwise writes the VMCS guest-state area. Checks not made here
 * fail the next VM entry, which ends that VM only.
 */
#include "cpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define EFER_ALLOWED    (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define CR8_MAX         15
#define LIMIT_PAGE_BITS 0xfffu      /* limit bits 11:0, all ones when G = 1 */
#define LIMIT_HIGH_BITS 0xfff00000u /* limit bits 31:20, all zeros when G = 0 */

static bool canonical(uint64_t addr, unsigned bits)
{
    int64_t shifted = (int64_t)(addr << (64 - bits)) >> (64 - bits);
    return (uint64_t)shifted == addr;
}

/* CR0, CR3, CR4, CR8 and EFER (27.3.1.1; Vol. 3A 2.5: PG needs PE, NW
 * needs CD; 10.8.5: long mode active iff LME and PG, and then PAE). */
static bool control_registers_ok(const struct keel_sregs *s)
{
    const struct vmx_config *k = &vmx_config;
    bool lma = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);
    if ((s->cr0 >> 32) || (s->cr0 & ~k->cr0_fixed1))
        return false;
    if (((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE)) || ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD)))
        return false;
    if ((s->cr4 & ~k->cr4_fixed1) || (s->cr4 & CR4_VMXE) || (!lma && (s->cr4 & CR4_PCIDE)))
        return false;
    if ((s->cr3 >> k->maxphyaddr) || s->cr8 > CR8_MAX || (s->efer & ~EFER_ALLOWED))
        return false;
    if (!!(s->efer & EFER_LMA) != lma || (lma && !(s->cr4 & CR4_PAE)))
        return false;
    return true;
}

/* Bases (27.3.1.2: CS, and SS/DS/ES when usable, below 4 GiB; FS, GS, and
 * LDTR/TR when usable, canonical), CS and TR usable, limit consistent with
 * G, and no 64-bit code segment with D set in IA-32e mode. */
static bool segment_ok(unsigned i, const struct keel_segment *seg, unsigned la_bits, bool lma)
{
    bool unusable = seg->unusable || !seg->present;
    if ((i == SEG_CS || i == SEG_TR) && unusable)
        return false;
    bool below_4g = i == SEG_CS || ((i == SEG_SS || i == SEG_DS || i == SEG_ES) && !unusable);
    bool must_be_canonical =
        i == SEG_FS || i == SEG_GS || ((i == SEG_LDTR || i == SEG_TR) && !unusable);
    if ((below_4g && (seg->base >> 32)) || (must_be_canonical && !canonical(seg->base, la_bits)))
        return false;
    if (unusable)
        return true;
    if (seg->g && (seg->limit & LIMIT_PAGE_BITS) != LIMIT_PAGE_BITS)
        return false;
    if (!seg->g && (seg->limit & LIMIT_HIGH_BITS))
        return false;
    return !(i == SEG_CS && lma && seg->l && seg->db);
}

static bool state_ok(const struct keel_sregs *s, const struct keel_segment *const segs[])
{
    bool lma = s->efer & EFER_LMA;
    unsigned la_bits = (s->cr4 & CR4_LA57) ? 57 : 48;
    if (!control_registers_ok(s))
        return false;
    for (unsigned i = SEG_ES; i <= SEG_TR; i++) {
        if (!segment_ok(i, segs[i], la_bits, lma))
            return false;
    }
    return canonical(s->gdt.base, la_bits) && canonical(s->idt.base, la_bits);
}

int vmx_set_sregs(struct vcpu *v, const struct keel_sregs *s)
{
    struct vmx_vcpu *x = v->backend;
    const struct vmx_config *k = &vmx_config;
    const struct keel_segment *const segs[] = {&s->es, &s->cs, &s->ss,  &s->ds,
                                               &s->fs, &s->gs, &s->ldt, &s->tr};
    if (!state_ok(s, segs))
        return -1;
    bool lma = s->efer & EFER_LMA;
    int rc = -1;
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(x) != 0)
        goto out;
    /* A new paging state: PAE paging outside long mode takes the PDPTEs
     * from the VMCS at VM entry (27.3.2.4), so they are read now, as MOV to
     * CR3 would; and the old linear mappings go (flush before entry). */
    bool paging_changed = vmx_guest_cr0() != s->cr0 || vmx_guest_cr4() != s->cr4 ||
                          vmcs_read(VMCS_GUEST_CR3) != s->cr3 ||
                          vmcs_read(VMCS_GUEST_EFER) != s->efer;
    if (paging_changed && (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !lma &&
        vmx_load_pdptes(v, s->cr3) != 0)
        goto out;
    for (unsigned i = SEG_ES; i <= SEG_TR; i++)
        vmx_write_segment(i, segs[i]);
    vmcs_write(VMCS_GUEST_GDTR_BASE, s->gdt.base);
    vmcs_write(VMCS_GUEST_GDTR_LIMIT, s->gdt.limit);
    vmcs_write(VMCS_GUEST_IDTR_BASE, s->idt.base);
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, s->idt.limit);
    vmcs_write(VMCS_GUEST_CR0, s->cr0 | k->cr0_fixed0);
    vmcs_write(VMCS_CR0_SHADOW, s->cr0);
    vmcs_write(VMCS_GUEST_CR4, s->cr4 | k->cr4_fixed0);
    vmcs_write(VMCS_CR4_SHADOW, s->cr4);
    vmcs_write(VMCS_GUEST_CR3, s->cr3);
    vmcs_write(VMCS_GUEST_EFER, s->efer);
    vmx_set_ia32e_mode(lma); /* must equal EFER.LMA (27.3.1.1) */
    x->cr2 = s->cr2;
    x->apic_base = s->apic_base;
    if (paging_changed)
        x->flush_pending = true;
    rc = 0;
out:
    irq_restore(flags);
    return rc;
}
