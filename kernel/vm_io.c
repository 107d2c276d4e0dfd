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
#define VEC_GP           13

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

static uint64_t address_mask(const struct keel_sregs *s)
{
    if ((s->efer & GUEST_EFER_LMA) && s->cs.l)
        return ~0ull;
    return s->cs.db ? 0xffffffffull : 0xffffull;
}

/* Raises what the CPU would for a failed translation: #GP(0) for a
 * non-canonical address, #PF otherwise. A paging structure outside guest RAM
 * reads as all ones on a PC, so it faults as a reserved-bit #PF. */
static void translation_fault(struct vcpu *v, enum guest_walk_result r, uint64_t linear,
                              uint32_t error_code, unsigned access)
{
    if (r == GUEST_WALK_NON_CANONICAL)
        vcpu_queue_exception(v, VEC_GP, true, 0);
    else if (r == GUEST_WALK_BAD_TABLE)
        vm_inject_page_fault(v, linear, GUEST_PF_PRESENT | GUEST_PF_RSVD | access);
    else
        vm_inject_page_fault(v, linear, error_code);
}

/* Moves one unit between guest memory at linear and the port. */
static bool string_unit(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                        const struct guest_paging_state *st, unsigned cpl_access, uint64_t linear)
{
    uint64_t gpa;
    uint32_t err = 0;
    unsigned access = (e->io.in ? GUEST_ACCESS_WRITE : 0) | cpl_access;
    enum guest_walk_result r =
        guest_walk(st, linear, access, vm_read_guest_phys, v->vm, &gpa, &err);
    if (r != GUEST_WALK_OK) {
        translation_fault(v, r, linear, err, access);
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

/* Carries out up to max_units units of the string instruction of e; returns
 * how many were done (0 when the first one faulted: the fault is queued). */
static uint64_t string_io(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                          uint64_t max_units)
{
    struct keel_sregs s;
    struct keel_regs r;
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
    unsigned cpl_access = s.ss.dpl == 3 ? GUEST_ACCESS_USER : 0; /* CPL is SS.DPL */
    while (done < count && done < max_units) {
        if (!string_unit(v, dev, e, &st, cpl_access, base + (*index & mask)))
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
    return done;
}

/* A "device" that moves string units to or from a buffer: the data of a
 * string OUT for the VMM, or the VMM's data for a string IN. */
struct unit_buffer {
    uint8_t *data;
    uint64_t capacity, used; /* in units */
};

static bool buffer_pio(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in,
                       uint32_t *value)
{
    (void)v;
    (void)port;
    struct unit_buffer *b = ctx;
    if (b->used >= b->capacity)
        return false;
    if (in)
        memcpy(value, b->data + b->used * size, size);
    else
        memcpy(b->data + b->used * size, value, size);
    b->used++;
    return true;
}

/* Units the string instruction still has to move (RCX for REP). */
static uint64_t string_units_left(struct vcpu *v, const struct vm_exit *e)
{
    if (!e->io.rep)
        return 1;
    struct keel_sregs s;
    virt->get_sregs(v, &s);
    return v->gprs.rcx & address_mask(&s);
}

/* String I/O for the VMM: an OUT's units are gathered now and handed over; an
 * IN asks for units, written to the guest when the VMM answers (next RUN). */
static bool string_to_user(struct vcpu *v, const struct vm_exit *e, struct vcpu_stop *stop)
{
    uint64_t cap = USER_STRING_BYTES / e->io.size;
    uint64_t left = e->io.in ? string_units_left(v, e) : 0; /* an OUT is done at once */
    struct vcpu_user_exit *x = &v->user_exit;
    *x = (struct vcpu_user_exit){.kind = USER_EXIT_STRING,
                                 .port = e->io.port,
                                 .size = e->io.size,
                                 .in = e->io.in,
                                 .rep = e->io.rep,
                                 .insn_len = e->insn_len};
    if (left == 0) { /* an OUT, or a REP IN with nothing left to do */
        struct unit_buffer b = {x->string_data, cap, 0};
        struct vm_device_ops collect = {.pio = buffer_pio, .ctx = &b};
        string_io(v, &collect, e, cap);
        if (b.used == 0) {
            x->kind = USER_EXIT_NONE; /* nothing to hand over (REP with RCX 0, or a fault) */
            return false;
        }
        x->count = (uint32_t)b.used;
    } else {
        x->count = (uint32_t)(left < cap ? left : cap);
    }
    stop->reason = VCPU_STOP_USER_IO;
    stop->rip = e->rip;
    return true;
}

/* Writes the VMM's answer to a string IN into the guest, as far as it goes. */
static void complete_string_in(struct vcpu *v, const uint8_t *data)
{
    struct vcpu_user_exit *x = &v->user_exit;
    struct vm_exit e = {.reason = VM_EXIT_IO, .insn_len = x->insn_len};
    e.io.port = x->port;
    e.io.size = x->size;
    e.io.in = true;
    e.io.string = true;
    e.io.rep = x->rep;
    struct unit_buffer b = {(uint8_t *)data, x->count, 0};
    struct vm_device_ops feed = {.pio = buffer_pio, .ctx = &b};
    string_io(v, &feed, &e, x->count);
}

bool vm_exit_io(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                struct vcpu_stop *stop)
{
    if (!dev->pio) {
        if (e->io.string)
            return string_to_user(v, e, stop);
        v->user_exit =
            (struct vcpu_user_exit){.kind = USER_EXIT_PIO,
                                    .port = e->io.port,
                                    .size = e->io.size,
                                    .in = e->io.in,
                                    .insn_len = e->insn_len,
                                    .value = (uint32_t)v->gprs.rax & size_mask(e->io.size)};
        stop->reason = VCPU_STOP_USER_IO;
        stop->rip = e->rip;
        return true;
    }
    if (e->io.string) {
        string_io(v, dev, e, STRING_BATCH_MAX);
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

void vcpu_complete_user_exit(struct vcpu *v, uint64_t value, const uint8_t *data)
{
    struct vcpu_user_exit *x = &v->user_exit;
    if (x->kind == USER_EXIT_STRING) {
        if (x->in)
            complete_string_in(v, data); /* an OUT was carried out at the exit */
    } else if (x->kind == USER_EXIT_PIO) {
        if (x->in) {
            uint64_t v32 = value & size_mask(x->size);
            uint64_t keep = x->size == 4 ? 0 : v->gprs.rax & ~(uint64_t)size_mask(x->size);
            v->gprs.rax = keep | v32;
        }
        virt->skip_instruction(v, x->insn_len);
    } else if (x->kind == USER_EXIT_MMIO) {
        struct keel_regs r;
        virt->get_regs(v, &r);
        if (!x->insn.write) {
            uint64_t *reg = vm_mmio_register(&r, x->insn.reg);
            *reg = mmio_merge_load(&x->insn, *reg, value);
        }
        r.rip += x->insn.length;
        virt->set_regs(v, &r);
    }
    x->kind = USER_EXIT_NONE;
}
