/*
 * Port I/O exits: IN/OUT go to the device handler; INS/OUTS (with or without
 * REP) are carried out here unit by unit through the guest's page tables
 * (SDM Vol. 2B INS/OUTS: ES:rDI for INS, DS:rSI for OUTS — a segment override
 * on OUTS is not honoured yet; the address size follows the CPU mode).
 * Unclaimed ports read all ones and ignore writes, as on a PC bus.
 */
#include "kstring.h"
#include "virt.h"
#include "vm_exit.h"

#define RFLAGS_DF        (1ull << 10)
#define STRING_BATCH_MAX 4096 /* units per exit; REP resumes where it stopped */

static uint32_t size_mask(uint8_t size)
{
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static uint32_t port_in(struct vcpu *v, const struct vm_device_ops *dev, uint16_t port,
                        uint8_t size)
{
    uint32_t value = 0xffffffffu;
    if (!dev->pio || !dev->pio(dev->ctx, v, port, size, true, &value))
        value = 0xffffffffu;
    return value & size_mask(size);
}

static void port_out(struct vcpu *v, const struct vm_device_ops *dev, uint16_t port, uint8_t size,
                     uint32_t value)
{
    if (dev->pio)
        dev->pio(dev->ctx, v, port, size, false, &value);
}

static uint64_t address_mask(const struct vcpu_sregs *s)
{
    if ((s->efer & GUEST_EFER_LMA) && s->cs.l)
        return ~0ull;
    return s->cs.db ? 0xffffffffull : 0xffffull;
}

/* Moves one unit between guest memory at linear and the port. */
static bool string_unit(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                        const struct guest_paging_state *st, uint64_t linear)
{
    uint64_t gpa;
    uint32_t err;
    unsigned access = e->io.in ? GUEST_ACCESS_WRITE : 0;
    if (guest_walk(st, linear, access, vm_read_guest_phys, v->vm, &gpa, &err) != GUEST_WALK_OK) {
        vm_inject_page_fault(v, linear, err | (e->io.in ? GUEST_PF_WRITE : 0));
        return false;
    }
    uint8_t *ram = vm_guest_ram(v->vm, gpa, e->io.size);
    uint32_t value = 0;
    if (e->io.in) {
        value = port_in(v, dev, e->io.port, e->io.size);
        if (ram)
            memcpy(ram, &value, e->io.size);
    } else {
        if (ram)
            memcpy(&value, ram, e->io.size);
        else
            value = 0xffffffffu; /* outside guest RAM reads as all ones */
        port_out(v, dev, e->io.port, e->io.size, value);
    }
    return true;
}

static void string_io(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e)
{
    struct vcpu_sregs s;
    struct vcpu_regs r;
    virt->get_sregs(v, &s);
    virt->get_regs(v, &r);
    struct guest_paging_state st;
    vm_guest_paging(v, &s, &st);
    uint64_t mask = address_mask(&s);
    uint64_t *index = e->io.in ? &r.rdi : &r.rsi;
    uint64_t base = e->io.in ? s.es.base : s.ds.base;
    int64_t step = (r.rflags & RFLAGS_DF) ? -(int64_t)e->io.size : e->io.size;
    uint64_t count = e->io.rep ? (r.rcx & mask) : 1;
    uint64_t done = 0;
    while (done < count && done < STRING_BATCH_MAX) {
        if (!string_unit(v, dev, e, &st, base + (*index & mask)))
            break; /* #PF queued: the guest sees the registers as of this unit */
        *index = (*index & ~mask) | ((*index + (uint64_t)step) & mask);
        done++;
    }
    if (e->io.rep)
        r.rcx = (r.rcx & ~mask) | ((r.rcx - done) & mask);
    bool finished = done == count;
    if (finished)
        r.rip += e->insn_len;
    virt->set_regs(v, &r);
}

bool vm_exit_io(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                struct vcpu_stop *stop)
{
    (void)stop;
    if (e->io.string) {
        string_io(v, dev, e);
        return false;
    }
    if (e->io.in) {
        uint32_t value = port_in(v, dev, e->io.port, e->io.size);
        uint64_t keep = e->io.size == 4 ? 0 : v->gprs.rax & ~(uint64_t)size_mask(e->io.size);
        v->gprs.rax = keep | value; /* a 32-bit IN zero-extends into RAX */
    } else {
        port_out(v, dev, e->io.port, e->io.size, (uint32_t)v->gprs.rax & size_mask(e->io.size));
    }
    virt->skip_instruction(v, e->insn_len);
    return false;
}
