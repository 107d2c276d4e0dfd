/*
 * Nested page faults (EPT violations): guest RAM not yet mapped is mapped
 * (first touch); any other fault is an access to MMIO (a device claims the
 * address) or outside guest memory (nothing does: reads give all ones, writes are dropped, as on a
 * PC bus). Either way the core fetches the instruction through the guest's page tables, decodes the
 * simple mov forms (kernel/mmio_decode.h lists them) and carries the access out; anything else
 * stops the vCPU with the instruction bytes rather than guessing.
 */
#include "kstring.h"
#include "layout.h"
#include "mmio_decode.h"
#include "printk.h"
#include "virt.h"
#include "vm_exit.h"

/* The register with encoding number n (SDM Vol. 2A table 2-1: 0 rAX,
 * 1 rCX, 2 rDX, 3 rBX, 4 rSP, 5 rBP, 6 rSI, 7 rDI, 8-15 R8-R15). */
uint64_t *vm_mmio_register(struct keel_regs *r, unsigned n)
{
    uint64_t *const low[8] = {&r->rax, &r->rcx, &r->rdx, &r->rbx,
                              &r->rsp, &r->rbp, &r->rsi, &r->rdi};
    return n < 8 ? low[n] : &r->r8 + (n - 8);
}

static uint64_t all_ones(uint8_t size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static bool stop_undecoded(struct vcpu_stop *stop, const struct vm_exit *e, const uint8_t *bytes,
                           size_t n)
{
    stop->reason = VCPU_STOP_MMIO_UNDECODED;
    stop->code = e->slat.gpa;
    stop->rip = e->rip;
    stop->insn_length = (uint8_t)n;
    memcpy(stop->insn, bytes, n);
    return true;
}

/* The xAPIC page (SDM Vol. 3A 11.4.1) is emulated in the core: no exit
 * to the VMM. Accesses the LAPIC refuses read as zeros. */
static bool lapic_access(struct vcpu *v, const struct vm_exit *e, struct guest_insn *insn,
                         const struct mmio_insn *d, uint64_t *reg)
{
    uint32_t offset = (uint32_t)(e->slat.gpa & (PAGE_SIZE - 1));
    if (d->write) {
        uint64_t value = d->src == MMIO_SRC_IMM ? d->imm : mmio_store_value(d, *reg);
        vlapic_mmio_write(&v->lapic, offset, d->size, value);
    } else {
        uint64_t value = 0;
        if (!vlapic_mmio_read(&v->lapic, offset, d->size, &value))
            value = 0;
        *reg = mmio_merge_load(d, *reg, value);
    }
    v->stats.mmio++;
    v->stats.emulated_instructions++;
    insn->regs.rip += d->length;
    virt->set_regs(v, &insn->regs);
    return false;
}

bool vm_exit_slat_fault(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                        struct vcpu_stop *stop)
{
    int fault = vm_map_on_fault(v->vm, e->slat.gpa);
    if (fault == VM_FAULT_MAPPED) {
        v->stats.ram_mapped++;
        return false;
    }
    if (fault != VM_FAULT_NOT_RAM) {
        /* RAM is mapped with all rights (no dirty logging yet), or the
         * tables are out of memory: stop rather than loop. */
        stop->reason = VCPU_STOP_UNHANDLED;
        stop->code = e->slat.gpa;
        stop->rip = e->rip;
        return true;
    }
    struct guest_insn insn;
    vm_fetch_instruction(v, &insn);
    struct keel_regs *r = &insn.regs;
    struct mmio_insn d;
    if (mmio_decode(insn.bytes, insn.length, insn.long_mode, insn.sregs.cs.db, &d) < 0)
        return stop_undecoded(stop, e, insn.bytes, insn.length);

    uint64_t *reg = vm_mmio_register(r, d.reg);
    uint64_t value = 0;
    bool claimed;
    if (vlapic_in_xapic_page(&v->lapic, e->slat.gpa))
        return lapic_access(v, e, &insn, &d, reg);
    if (!dev->mmio) {
        v->user_exit = (struct vcpu_user_exit){
            .kind = USER_EXIT_MMIO,
            .gpa = e->slat.gpa,
            .insn = d,
            .value = d.write ? (d.src == MMIO_SRC_IMM ? d.imm : mmio_store_value(&d, *reg)) : 0};
        v->stats.mmio++;
        v->stats.emulated_instructions++;
        stop->reason = VCPU_STOP_USER_IO;
        stop->rip = e->rip;
        return true;
    }
    if (d.write) {
        value = d.src == MMIO_SRC_IMM ? d.imm : mmio_store_value(&d, *reg);
        claimed = dev->mmio && dev->mmio(dev->ctx, v, e->slat.gpa, d.size, true, &value);
    } else {
        claimed = dev->mmio && dev->mmio(dev->ctx, v, e->slat.gpa, d.size, false, &value);
        if (!claimed)
            value = all_ones(d.size);
        *reg = mmio_merge_load(&d, *reg, value);
    }
    if (claimed) {
        v->stats.mmio++;
    } else if (!v->stats.outside_memory++) {
        pr_debug("vm %s: vCPU %u touched 0x%llx outside guest memory (rip 0x%llx); reads give "
                 "all ones, writes are dropped",
                 v->vm->name, v->id, (unsigned long long)e->slat.gpa, (unsigned long long)r->rip);
    }
    v->stats.emulated_instructions++;
    r->rip += d.length;
    virt->set_regs(v, r);
    return false;
}
