/* Access to a guest's memory through its own view (page tables, segments). */
#include "cpu.h"
#include "cpufeatures.h"
#include "kstring.h"
#include "layout.h"
#include "virt.h"
#include "vm_exit.h"

#define VEC_PF 14

/* Page by page: the VMM's memory behind guest RAM need not be contiguous. */
bool vm_read_guest_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    while (len) {
        size_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        const void *ram = vm_guest_ram(ctx, gpa, chunk);
        if (!ram)
            return false;
        memcpy(buf, ram, chunk);
        gpa += chunk;
        buf = (char *)buf + chunk;
        len -= chunk;
    }
    return true;
}

void vm_guest_paging(struct vcpu *v, const struct keel_sregs *s, struct guest_paging_state *st)
{
    (void)v;
    *st = (struct guest_paging_state){.cr0 = s->cr0,
                                      .cr3 = s->cr3,
                                      .cr4 = s->cr4,
                                      .efer = s->efer,
                                      .maxphyaddr = cpu_features.phys_addr_bits};
}

void vm_inject_page_fault(struct vcpu *v, uint64_t linear, uint32_t error_code)
{
    struct keel_sregs s;
    virt->get_sregs(v, &s);
    s.cr2 = linear;
    virt->set_sregs(v, &s);
    vcpu_queue_exception(v, VEC_PF, true, error_code);
}

void vm_fetch_instruction(struct vcpu *v, struct guest_insn *out)
{
    virt->get_sregs(v, &out->sregs);
    virt->get_regs(v, &out->regs);
    struct guest_paging_state st;
    vm_guest_paging(v, &out->sregs, &st);
    out->long_mode = (out->sregs.efer & GUEST_EFER_LMA) && out->sregs.cs.l;
    uint64_t linear = out->long_mode ? out->regs.rip : out->sregs.cs.base + out->regs.rip;
    unsigned access = out->sregs.ss.dpl == 3 ? GUEST_ACCESS_USER : 0; /* CPL is SS.DPL */
    out->length =
        guest_fetch(&st, linear, access, out->bytes, sizeof(out->bytes), vm_read_guest_phys, v->vm);
}
