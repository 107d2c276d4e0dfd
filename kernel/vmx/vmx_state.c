/*
 * Register state of a VT-x vCPU in KVM's shapes (struct keel_regs /
 * vcpu_sregs): GPRs from the vCPU, the rest from the VMCS guest-state area
 * (SDM Vol. 3C 25.4). set_sregs is a trust boundary: it checks what the
 * architecture forbids and VM entry would refuse (27.3.1) and returns -1
 * rather than leave a VMCS that cannot be entered; what it does not check
 * fails the entry, which ends that VM only.
 */
#include "cpu.h"
#include "layout.h"
#include "vmx/vmcs.h"
#include "vcpu_regs.h"
#include "vmx/vmx_internal.h"

/* RFLAGS bits software may set; bit 1 reads as 1 (SDM Vol. 1 3.4.3). */
#define RFLAGS_SETTABLE 0x3f7fd5ull
#define RFLAGS_FIXED1   0x2ull
#define PDPTE_P         (1ull << 0)
#define PDPTE_RESERVED  0x1e6ull /* bits 2:1 and 8:5 (SDM Vol. 3A 4.4.1) */
#define CR3_PDPT_MASK   0xffffffe0ull
#define AR_ACCESSED_BIT 1u /* code/data type bit 0 */
#define AR_TSS_BUSY_BIT 2u /* TSS type bit 1 */

void vmx_get_regs(struct vcpu *v, struct keel_regs *r)
{
    vcpu_regs_from_gprs(&v->gprs, r);
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(v->backend) == 0) {
        r->rsp = vmcs_read(VMCS_GUEST_RSP);
        r->rip = vmcs_read(VMCS_GUEST_RIP);
        r->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
    }
    irq_restore(flags);
}

/* RFLAGS is forced into a form VM entry accepts (27.3.1.4: reserved bits 0,
 * bit 1 set). */
void vmx_set_regs(struct vcpu *v, const struct keel_regs *r)
{
    gprs_from_vcpu_regs(r, &v->gprs);
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(v->backend) == 0) {
        vmcs_write(VMCS_GUEST_RSP, r->rsp);
        vmcs_write(VMCS_GUEST_RIP, r->rip);
        vmcs_write(VMCS_GUEST_RFLAGS, (r->rflags & RFLAGS_SETTABLE) | RFLAGS_FIXED1);
    }
    irq_restore(flags);
}

/* The guest's view of CR0/CR4: host-owned bits from the read shadow
 * (25.6.6). */
uint64_t vmx_guest_cr0(void)
{
    uint64_t mask = vmx_config.cr0_host_owned;
    return (vmcs_read(VMCS_GUEST_CR0) & ~mask) | (vmcs_read(VMCS_CR0_SHADOW) & mask);
}

uint64_t vmx_guest_cr4(void)
{
    uint64_t mask = vmx_config.cr4_host_owned;
    return (vmcs_read(VMCS_GUEST_CR4) & ~mask) | (vmcs_read(VMCS_CR4_SHADOW) & mask);
}

/* Access rights (25.4.1, table 25-2) to KVM's segment form and back. An
 * unusable segment reads as not present, and a non-present one is written
 * as unusable (VM entry wants usable segments present, 27.3.1.2). */
static void read_segment(enum vmx_seg s, struct keel_segment *seg)
{
    uint32_t ar = (uint32_t)vmcs_read(VMCS_SEG_AR(s));
    *seg = (struct keel_segment){
        .base = vmcs_read(VMCS_SEG_BASE(s)),
        .limit = (uint32_t)vmcs_read(VMCS_SEG_LIMIT(s)),
        .selector = (uint16_t)vmcs_read(VMCS_SEG_SEL(s)),
        .type = ar & AR_TYPE_MASK,
        .s = !!(ar & AR_S),
        .dpl = (ar >> AR_DPL_SHIFT) & 3,
        .present = (ar & AR_P) && !(ar & AR_UNUSABLE),
        .avl = !!(ar & AR_AVL),
        .l = !!(ar & AR_L),
        .db = !!(ar & AR_DB),
        .g = !!(ar & AR_G),
        .unusable = !!(ar & AR_UNUSABLE),
    };
}

static uint32_t segment_ar(enum vmx_seg s, const struct keel_segment *seg)
{
    bool unusable = seg->unusable || !seg->present;
    uint32_t type = seg->type & AR_TYPE_MASK;
    /* Usable code/data segments must be "accessed" (type bit 0) and TR busy
     * (bit 1: 16-bit 1 -> 3, 32/64-bit 9 -> 11), 27.3.1.2. */
    if (!unusable && s == SEG_TR)
        type |= AR_TSS_BUSY_BIT;
    else if (!unusable && s != SEG_LDTR)
        type |= AR_ACCESSED_BIT;
    return type | (seg->s ? AR_S : 0) | ((seg->dpl & 3u) << AR_DPL_SHIFT) |
           (seg->present ? AR_P : 0) | (seg->avl ? AR_AVL : 0) | (seg->l ? AR_L : 0) |
           (seg->db ? AR_DB : 0) | (seg->g ? AR_G : 0) | (unusable ? AR_UNUSABLE : 0);
}

void vmx_write_segment(enum vmx_seg s, const struct keel_segment *seg)
{
    vmcs_write(VMCS_SEG_SEL(s), seg->selector);
    vmcs_write(VMCS_SEG_BASE(s), seg->base);
    vmcs_write(VMCS_SEG_LIMIT(s), seg->limit);
    vmcs_write(VMCS_SEG_AR(s), segment_ar(s, seg));
}

void vmx_get_sregs(struct vcpu *v, struct keel_sregs *s)
{
    struct vmx_vcpu *x = v->backend;
    *s = (struct keel_sregs){0};
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(x) == 0) {
        struct keel_segment *segs[] = {&s->es, &s->cs, &s->ss,  &s->ds,
                                       &s->fs, &s->gs, &s->ldt, &s->tr};
        for (unsigned i = SEG_ES; i <= SEG_TR; i++)
            read_segment(i, segs[i]);
        s->gdt.base = vmcs_read(VMCS_GUEST_GDTR_BASE);
        s->gdt.limit = (uint16_t)vmcs_read(VMCS_GUEST_GDTR_LIMIT);
        s->idt.base = vmcs_read(VMCS_GUEST_IDTR_BASE);
        s->idt.limit = (uint16_t)vmcs_read(VMCS_GUEST_IDTR_LIMIT);
        s->cr0 = vmx_guest_cr0();
        s->cr3 = vmcs_read(VMCS_GUEST_CR3);
        s->cr4 = vmx_guest_cr4();
        s->efer = vmcs_read(VMCS_GUEST_EFER);
    }
    irq_restore(flags);
    s->cr2 = x->cr2;
    s->apic_base = x->apic_base;
}

/* Loads the four PDPTEs of PAE paging from guest memory into the VMCS, as
 * MOV to CR0/CR3/CR4 does natively (SDM Vol. 3A 4.4.1); with EPT, VM entry
 * takes them from these fields (27.3.2.4). Returns -1 when the table is not
 * in guest RAM or a present entry has reserved bits set (native: #GP). */
int vmx_load_pdptes(struct vcpu *v, uint64_t cr3)
{
    uint64_t gpa = cr3 & CR3_PDPT_MASK, hpa, page_size;
    unsigned perms;
    enum slat_memtype type;
    if (!slat_lookup(&v->vm->slat, gpa, &hpa, &perms, &type, &page_size) || !(perms & SLAT_READ))
        return -1;
    const volatile uint64_t *pdpt = phys_to_virt(hpa); /* 32-byte aligned: one page */
    uint64_t e[4], reserved = PDPTE_RESERVED | ~((1ull << vmx_config.maxphyaddr) - 1);
    for (unsigned i = 0; i < 4; i++) {
        e[i] = pdpt[i];
        if ((e[i] & PDPTE_P) && (e[i] & reserved))
            return -1;
    }
    for (unsigned i = 0; i < 4; i++)
        vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, e[i]);
    return 0;
}

void vmx_set_ia32e_mode(bool on)
{
    uint64_t entry = vmcs_read(VMCS_ENTRY_CONTROLS);
    uint64_t want = on ? entry | ENTRY_IA32E_GUEST : entry & ~(uint64_t)ENTRY_IA32E_GUEST;
    if (want != entry)
        vmcs_write(VMCS_ENTRY_CONTROLS, want);
}
