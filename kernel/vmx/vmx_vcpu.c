/*
 * The VT-x vCPU object: creation and destruction of its VMCS (SDM Vol. 3C
 * 25.2 region format, 25.11.3 VMCLEAR before first use) and MSR areas, and
 * the small operations of struct virt_ops the generic run loop calls between
 * entries (skip an instruction, interrupt window, TLB flush).
 */
#include <stddef.h>

#include "cpu.h"
#include "heap.h"
#include "layout.h"
#include "pmm.h"
#include "printk.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define VPID_MAX 0xffffu /* 16-bit VPIDs; 0 is the host's (29.1) */

/* The entry/exit assembly finds the guest GPRs at offset 0 of struct vcpu,
 * in this order (vmx_entry.asm's GPR_* constants). */
_Static_assert(offsetof(struct vcpu, gprs) == 0, "gprs must start struct vcpu");
_Static_assert(offsetof(struct guest_gprs, rdx) == 24, "vmx_entry.asm GPR_RDX");
_Static_assert(offsetof(struct guest_gprs, rbp) == 48, "vmx_entry.asm GPR_RBP");
_Static_assert(offsetof(struct guest_gprs, r15) == 112, "vmx_entry.asm GPR_R15");

static void free_backend(struct vmx_vcpu *x)
{
    if (x->vmcs_phys)
        pmm_free_pages(x->vmcs_phys, 0);
    if (x->msr_page)
        pmm_free_pages(x->msr_page, 0);
    kfree(x);
}

static void init_msr_areas(struct vmx_vcpu *x)
{
    x->guest_msrs = phys_to_virt(x->msr_page);
    x->host_msrs = phys_to_virt(x->msr_page + PAGE_SIZE / 2);
    for (unsigned i = 0; i < SWITCHED_MSR_COUNT; i++) {
        x->guest_msrs[i] = (struct vmx_msr_entry){vmx_switched_msrs[i], 0, 0};
        x->host_msrs[i] = (struct vmx_msr_entry){vmx_switched_msrs[i], 0, 0};
    }
}

/* Allocates the VMCS (4 KiB, revision identifier first, 25.2) and the MSR
 * areas, then builds the VMCS on the calling CPU. Returns 0, or -1 with
 * nothing left allocated. */
int vmx_vcpu_create(struct vcpu *v)
{
    struct vmx_vcpu *x = kzalloc(sizeof(*x));
    if (!x)
        return -1;
    x->cpu = -1;
    x->vmcs_phys = pmm_alloc_frame();
    x->msr_page = pmm_alloc_frame();
    if (!x->vmcs_phys || !x->msr_page) {
        free_backend(x);
        return -1;
    }
    *(volatile uint32_t *)phys_to_virt(x->vmcs_phys) = vmx_config.revision;
    init_msr_areas(x);
    uint32_t asid = v->vm->asid;
    x->vpid = (vmx_config.vpid && asid != 0 && asid <= VPID_MAX) ? (uint16_t)asid : 0;
    x->proc = vmx_config.proc;
    uint64_t flags = irq_save();
    bool ok = !vmx_vmclear(x->vmcs_phys) && !vmx_vmcs_load(x) && vmx_write_controls(v, x) &&
              vmx_write_reset_state(v, x);
    if (!ok && vmx_vmcs_release(x) != 0)
        x->vmcs_phys = 0; /* still active somewhere: leak it rather than reuse it */
    irq_restore(flags);
    if (!ok) {
        free_backend(x);
        return -1;
    }
    v->backend = x;
    return 0;
}

/* VMCLEAR where the VMCS is active before its frame is freed: a CPU may
 * write its cached copy back to memory at any time until then (25.11.1). */
void vmx_vcpu_destroy(struct vcpu *v)
{
    struct vmx_vcpu *x = v->backend;
    if (!x)
        return;
    uint64_t flags = irq_save();
    if (vmx_vmcs_release(x) != 0) {
        pr_err("vmx: vCPU %u: VMCS active on cpu%d could not be cleared; leaking it", v->id,
               x->cpu);
        x->vmcs_phys = 0;
    }
    irq_restore(flags);
    free_backend(x);
    v->backend = 0;
}

bool vmx_guest_64bit_code(void)
{
    return (vmcs_read(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST) &&
           (vmcs_read(VMCS_SEG_AR(SEG_CS)) & AR_L);
}

/* RIP += len, and no STI / MOV SS shadow after the instruction (25.4.2
 * table 25-3). Outside 64-bit code RIP wraps at 4 GiB; the mode is looked
 * up only in that rare case. The VMCS is current. */
void vmx_advance_rip(uint32_t len)
{
    uint64_t rip = vmcs_read(VMCS_GUEST_RIP), next = rip + len;
    if ((next >> 32) != (rip >> 32) && !vmx_guest_64bit_code())
        next = (uint32_t)next;
    vmcs_write(VMCS_GUEST_RIP, next);
    uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS))
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
                   intr & ~(uint64_t)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
}

void vmx_skip_instruction(struct vcpu *v, uint32_t len)
{
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(v->backend) == 0)
        vmx_advance_rip(len);
    irq_restore(flags);
}

/* RFLAGS.IF set, no STI / MOV SS blocking, and no event of the backend's
 * own (a re-delivery) waiting to go first. */
bool vmx_interrupt_allowed(struct vcpu *v)
{
    struct vmx_vcpu *x = v->backend;
    bool allowed = false;
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(x) == 0 && !x->event.valid)
        allowed = (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF_BIT) &&
                  !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
    irq_restore(flags);
    return allowed;
}

void vmx_set_proc_controls(struct vmx_vcpu *x, uint32_t proc)
{
    if (proc != x->proc) {
        vmcs_write(VMCS_PROC_CONTROLS, proc);
        x->proc = proc;
    }
}

/* Interrupt-window exiting (25.6.2): an exit as soon as RFLAGS.IF = 1 and
 * no STI / MOV SS blocking. The control itself is set before each entry
 * (vmx_inject_events), so this only records the wish. */
void vmx_request_interrupt_window(struct vcpu *v, bool on)
{
    struct vmx_vcpu *x = v->backend;
    x->want_window = on;
}

void vmx_clear_events(struct vcpu *v)
{
    struct vmx_vcpu *x = v->backend;
    uint64_t flags = irq_save();
    if (vmx_vmcs_load(x) == 0)
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
    irq_restore(flags);
    x->event.valid = false;
}

/* INVEPT and INVVPID act on the executing CPU only (31.3), so the flush is
 * done by vcpu_run, on the vCPU's CPU, before the next entry. */
void vmx_flush_guest_tlb(struct vcpu *v)
{
    struct vmx_vcpu *x = v->backend;
    x->flush_pending = true;
}

/* Guest-physical and combined mappings of our EPTP (INVEPT), and linear
 * mappings of our VPID (INVVPID); single-context when supported (29.4.3). */
void vmx_flush_now(struct vcpu *v, struct vmx_vcpu *x)
{
    const struct vmx_config *k = &vmx_config;
    uint64_t eptp = slat_hardware_root(&v->vm->slat);
    vmx_invept((k->ept_vpid_cap & EPT_CAP_INVEPT_SINGLE) ? INVEPT_SINGLE : INVEPT_ALL, eptp);
    if (x->vpid)
        vmx_invvpid((k->ept_vpid_cap & EPT_CAP_INVVPID_SINGLE) ? INVVPID_SINGLE : INVVPID_ALL,
                    x->vpid);
    x->flush_pending = false;
}
