/*
 * The /dev/kvm-shaped hypercalls (include/keel/vm.h). A VM and its vCPUs
 * belong to the partition that created them; their handles mean nothing
 * elsewhere. Guest RAM is the VMM's own memory; the run page is a core frame
 * mapped into the VMM. Port I/O and MMIO exits go to the VMM and are
 * completed by its next KEEL_HC_RUN, as with KVM_RUN.
 */
#include <keel/hypercall.h>
#include <keel/start.h>
#include <keel/vm.h>

#include "guest_fpu.h"
#include "heap.h"
#include "hypercall_internal.h"
#include "kstring.h"
#include "layout.h"
#include "paging.h"
#include "pmm.h"
#include "user_memory.h"
#include "virt.h"
#include "vm.h"
#include "vm_exit.h"
#include "vm_lapic.h"

#define VCPUS_PER_VM   64
#define REGION_MAX     (64ull << 30) /* 64 GiB per slot */
#define GPA_LIMIT      (1ull << 46)
#define CR8_MAX        15
#define CR8_TPR_SHIFT  4
#define IO_DATA_OFFSET 0x800 /* where IN/OUT data lives in the run page */
_Static_assert(IO_DATA_OFFSET >= sizeof(struct keel_run) &&
                   USER_STRING_BYTES <= PAGE_SIZE - IO_DATA_OFFSET,
               "string I/O data fits the run page after struct keel_run");

struct user_vm {
    struct vm *vm;
    struct partition *owner;
    uint64_t vcpu_ids; /* bit per vCPU id in use */
    uint64_t msis;     /* SIGNAL_MSI calls a LAPIC took */
};

struct user_vcpu {
    struct vcpu *vcpu;
    struct user_vm *uvm;
    struct keel_run *run; /* the core's view of the run page */
    uint64_t run_phys;
    volatile uint32_t running;
};

static int64_t hc_create_vm(struct partition *p)
{
    if (!virt)
        return -KEEL_ENODEV;
    struct user_vm *u = kzalloc(sizeof(*u));
    struct vm *vm = u ? vm_create(p->name) : 0;
    if (!vm) {
        kfree(u);
        return -KEEL_ENOMEM;
    }
    u->vm = vm;
    u->owner = p;
    int64_t h = handle_new(p, HANDLE_VM, RIGHT_READ | RIGHT_WRITE, u);
    if (h < 0) {
        vm_destroy(vm);
        kfree(u);
    }
    return h;
}

/* Every page of [va, va+size) must be the caller's own writable memory. */
static bool own_writable_memory(struct partition *p, uint64_t va, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t pa, flags;
        if (!user_lookup(p->root, va + off, &pa, &flags) ||
            (flags & (PT_USER | PT_OWNED | PT_WRITE)) != (PT_USER | PT_OWNED | PT_WRITE))
            return false;
    }
    return true;
}

static int64_t hc_set_memory_region(struct partition *p, int64_t h, uint64_t uregion)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_VM, RIGHT_WRITE);
    struct keel_memory_region r;
    if (!e)
        return -KEEL_EBADF;
    if (!copy_from_user(p->root, &r, uregion, sizeof(r)))
        return -KEEL_EFAULT;
    if (r.flags || !r.memory_size ||
        ((r.guest_phys_addr | r.memory_size | r.userspace_addr) & (PAGE_SIZE - 1)))
        return -KEEL_EINVAL; /* deleting (size 0) and flags are not supported yet */
    if (r.memory_size > REGION_MAX || r.guest_phys_addr >= GPA_LIMIT ||
        r.memory_size > GPA_LIMIT - r.guest_phys_addr)
        return -KEEL_EINVAL;
    if (r.userspace_addr >= KEEL_USER_LIMIT || r.memory_size > KEEL_USER_LIMIT - r.userspace_addr ||
        !own_writable_memory(p, r.userspace_addr, r.memory_size))
        return -KEEL_EFAULT;
    struct user_vm *u = (struct user_vm *)e->object;
    if (vm_add_user_region(u->vm, r.slot, r.guest_phys_addr, r.memory_size, p->root,
                           r.userspace_addr) < 0)
        return r.slot >= VM_MAX_SLOTS ? -KEEL_EINVAL : -KEEL_EEXIST;
    return 0;
}

static int64_t hc_create_vcpu(struct partition *p, int64_t h, uint64_t id, uint64_t run_out)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_VM, RIGHT_WRITE);
    if (!e)
        return -KEEL_EBADF;
    struct user_vm *u = (struct user_vm *)e->object;
    if (id >= VCPUS_PER_VM)
        return -KEEL_EINVAL;
    if (u->vcpu_ids & (1ull << id))
        return -KEEL_EEXIST;
    int64_t err = -KEEL_ENOMEM;
    struct user_vcpu *uv = kzalloc(sizeof(*uv));
    uint64_t run = uv ? pmm_alloc_frame() : 0;
    struct vcpu *v = run ? vcpu_create(u->vm, (unsigned)id) : 0;
    uint64_t va = v ? hc_reserve_user_range(p, PAGE_SIZE) : 0;
    if (!va || user_map_frame(p->root, va, run, true) < 0)
        goto free_objects;
    err = -KEEL_EFAULT;
    if (!copy_to_user(p->root, run_out, &va, sizeof(va)))
        goto unmap;
    *uv = (struct user_vcpu){.vcpu = v, .uvm = u, .run = phys_to_virt(run), .run_phys = run};
    err = handle_new(p, HANDLE_VCPU, RIGHT_READ | RIGHT_WRITE | RIGHT_RUN, uv);
    if (err < 0)
        goto unmap;
    u->vcpu_ids |= 1ull << id;
    return err;
unmap:
    user_unmap(p->root, va, PAGE_SIZE); /* not owned: the frame is freed below */
free_objects:
    vcpu_destroy(v);
    if (run)
        pmm_free_pages(run, 0);
    kfree(uv);
    return err;
}

static struct user_vcpu *vcpu_of(struct partition *p, int64_t h, uint32_t rights)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_VCPU, rights);
    return e ? (struct user_vcpu *)e->object : 0;
}

static int64_t hc_regs(struct partition *p, int64_t h, uint64_t ptr, bool set)
{
    struct user_vcpu *uv = vcpu_of(p, h, set ? RIGHT_WRITE : RIGHT_READ);
    struct keel_regs r;
    if (!uv)
        return -KEEL_EBADF;
    if (uv->running)
        return -KEEL_EBUSY;
    if (set) {
        if (!copy_from_user(p->root, &r, ptr, sizeof(r)))
            return -KEEL_EFAULT;
        virt->set_regs(uv->vcpu, &r);
        return 0;
    }
    virt->get_regs(uv->vcpu, &r);
    return copy_to_user(p->root, ptr, &r, sizeof(r)) ? 0 : -KEEL_EFAULT;
}

static int64_t hc_sregs(struct partition *p, int64_t h, uint64_t ptr, bool set)
{
    struct user_vcpu *uv = vcpu_of(p, h, set ? RIGHT_WRITE : RIGHT_READ);
    struct keel_sregs s;
    if (!uv)
        return -KEEL_EBADF;
    if (uv->running)
        return -KEEL_EBUSY;
    struct vlapic *a = &uv->vcpu->lapic;
    if (set) {
        if (!copy_from_user(p->root, &s, ptr, sizeof(s)))
            return -KEEL_EFAULT;
        if (s.cr8 > CR8_MAX ||
            (s.apic_base != vlapic_base_msr(a) && !vlapic_set_base_msr(a, s.apic_base)))
            return -KEEL_EINVAL;
        if (virt->set_sregs(uv->vcpu, &s) != 0)
            return -KEEL_EINVAL;
        vlapic_set_tpr(a, (uint8_t)(s.cr8 << CR8_TPR_SHIFT));
        return 0;
    }
    virt->get_sregs(uv->vcpu, &s);
    s.cr8 = vlapic_tpr(a) >> CR8_TPR_SHIFT; /* CR8 is the LAPIC's TPR[7:4] (SDM 10.8.6.1) */
    s.apic_base = vlapic_base_msr(a);
    return copy_to_user(p->root, ptr, &s, sizeof(s)) ? 0 : -KEEL_EFAULT;
}

/* GET/SET_MSRS: entries in order until one the core does not emulate; the
 * result is how many were done (as KVM's). */
static int64_t hc_msrs(struct partition *p, int64_t h, uint64_t ptr, bool set)
{
    struct user_vcpu *uv = vcpu_of(p, h, set ? RIGHT_WRITE : RIGHT_READ);
    if (!uv)
        return -KEEL_EBADF;
    if (uv->running)
        return -KEEL_EBUSY;
    struct keel_msrs *m = kmalloc(sizeof(*m));
    if (!m)
        return -KEEL_ENOMEM;
    int64_t done = -KEEL_EFAULT;
    if (!copy_from_user(p->root, m, ptr, sizeof(*m)))
        goto out;
    done = -KEEL_EINVAL;
    if (m->nmsrs > KEEL_MSRS_MAX)
        goto out;
    for (done = 0; done < m->nmsrs; done++) {
        struct keel_msr_entry *e = &m->entries[done];
        if (set ? !vm_msr_write(uv->vcpu, e->index, e->data)
                : !vm_msr_read(uv->vcpu, e->index, &e->data))
            break;
    }
    if (!set && !copy_to_user(p->root, ptr, m, sizeof(*m)))
        done = -KEEL_EFAULT;
out:
    kfree(m);
    return done;
}

static int64_t hc_fpu(struct partition *p, int64_t h, uint64_t ptr, bool set)
{
    struct user_vcpu *uv = vcpu_of(p, h, set ? RIGHT_WRITE : RIGHT_READ);
    struct keel_fpu f;
    if (!uv)
        return -KEEL_EBADF;
    if (uv->running)
        return -KEEL_EBUSY;
    guest_fpu_sync(uv->vcpu);
    if (set) {
        if (!copy_from_user(p->root, &f, ptr, sizeof(f)))
            return -KEEL_EFAULT;
        guest_fpu_set(uv->vcpu, &f);
        return 0;
    }
    guest_fpu_get(uv->vcpu, &f);
    return copy_to_user(p->root, ptr, &f, sizeof(f)) ? 0 : -KEEL_EFAULT;
}

/* SET_CPUID: the VMM's entries replace Keel's policy values for their leaves
 * (cpuid_policy.c still filters them). */
static int64_t hc_set_cpuid(struct partition *p, int64_t h, uint64_t ptr)
{
    struct user_vcpu *uv = vcpu_of(p, h, RIGHT_WRITE);
    if (!uv)
        return -KEEL_EBADF;
    if (uv->running)
        return -KEEL_EBUSY;
    struct keel_cpuid *c = kmalloc(sizeof(*c));
    if (!c)
        return -KEEL_ENOMEM;
    if (!copy_from_user(p->root, c, ptr, sizeof(*c))) {
        kfree(c);
        return -KEEL_EFAULT;
    }
    if (c->nent > KEEL_CPUID_MAX) {
        kfree(c);
        return -KEEL_EINVAL;
    }
    struct keel_cpuid_entry *entries = kmalloc(sizeof(*entries) * (c->nent ? c->nent : 1));
    if (!entries) {
        kfree(c);
        return -KEEL_ENOMEM;
    }
    memcpy(entries, c->entries, sizeof(*entries) * c->nent);
    struct vcpu *v = uv->vcpu;
    kfree(v->cpuid_entries);
    v->cpuid_entries = entries;
    v->cpuid_count = c->nent;
    kfree(c);
    return 0;
}

/* INTERRUPT (KVM_INTERRUPT with a split irqchip): an ExtINT from the VMM's
 * PIC, injected once the vCPU's LAPIC accepts ExtINT and the guest has
 * interrupts on. */
static int64_t hc_interrupt(struct partition *p, int64_t h, uint64_t vector)
{
    struct user_vcpu *uv = vcpu_of(p, h, RIGHT_WRITE);
    if (!uv)
        return -KEEL_EBADF;
    if (vector < 32 || vector > 255)
        return -KEEL_EINVAL;
    vcpu_raise_interrupt(uv->vcpu, (uint8_t)vector);
    vcpu_kick(uv->vcpu);
    return 0;
}

static struct user_vm *vm_of(struct partition *p, int64_t h)
{
    const struct handle *e = handle_lookup(p, h, HANDLE_VM, RIGHT_WRITE);
    return e ? (struct user_vm *)e->object : 0;
}

/* IRQ_LINE: the level of LINT0 or LINT1 of every vCPU of the VM. */
static int64_t hc_irq_line(struct partition *p, int64_t h, uint64_t ptr)
{
    struct user_vm *u = vm_of(p, h);
    struct keel_irq_level l;
    if (!u)
        return -KEEL_EBADF;
    if (!copy_from_user(p->root, &l, ptr, sizeof(l)))
        return -KEEL_EFAULT;
    if (l.irq > KEEL_IRQ_LINT1 || l.level > 1)
        return -KEEL_EINVAL;
    vm_irq_line(u->vm, l.irq, l.level);
    return 0;
}

/* SIGNAL_MSI: routed to the LAPICs the address names (SDM Vol. 3A
 * 11.11); 1 when one took it, 0 when none did (as KVM). */
static int64_t hc_signal_msi(struct partition *p, int64_t h, uint64_t ptr)
{
    struct user_vm *u = vm_of(p, h);
    struct keel_msi m;
    if (!u)
        return -KEEL_EBADF;
    if (!copy_from_user(p->root, &m, ptr, sizeof(m)))
        return -KEEL_EFAULT;
    uint64_t address = ((uint64_t)m.address_hi << 32) | m.address_lo;
    if (m.flags || address >> 32)
        return -KEEL_EINVAL;
    if (!vlapic_msi_to_irq(address, m.data, &(struct vlapic_irq){0}))
        return -KEEL_EINVAL;
    bool taken = vm_signal_msi(u->vm, address, m.data);
    if (taken)
        __atomic_fetch_add(&u->msis, 1, __ATOMIC_RELAXED);
    return taken ? 1 : 0;
}

static int64_t hc_get_stats(struct partition *p, int64_t h, uint64_t ptr)
{
    struct user_vcpu *uv = vcpu_of(p, h, RIGHT_READ);
    if (!uv)
        return -KEEL_EBADF;
    const struct vcpu_stats *st = &uv->vcpu->stats;
    const struct vlapic_counters *lc = vlapic_counters(&uv->vcpu->lapic);
    struct keel_vcpu_stats out = {
        .halts_blocked = st->halts_blocked,
        .halt_wakeups = st->halt_wakeups,
        .ipis_sent = lc->ipis_sent,
        .ipis_received = lc->ipis_received,
        .timer_interrupts = lc->timer_interrupts,
        .injected_nmis = st->injected_nmis,
        .msis = uv->uvm->msis,
        .exits = st->exits,
        .hlt = st->hlt,
        .irq = st->irq,
        .irq_window = st->irq_window,
        .io = st->io,
        .mmio = st->mmio,
        .cpuid = st->cpuid,
        .msr = st->msr,
        .npf = st->slat_fault,
        .injected_interrupts = st->injected_interrupts,
        .injected_exceptions = st->injected_exceptions,
        .emulated_instructions = st->emulated_instructions,
        .exits_to_vmm = st->exits_to_vmm,
    };
    return copy_to_user(p->root, ptr, &out, sizeof(out)) ? 0 : -KEEL_EFAULT;
}

static bool owner_gone(void *ctx)
{
    const struct partition *p = ctx;
    return p->state == PARTITION_DEAD;
}

/* The run page after a stop, in KVM's terms. */
static void describe_exit(struct user_vcpu *uv, const struct vcpu_stop *stop)
{
    struct keel_run *run = uv->run;
    const struct vcpu_user_exit *x = &uv->vcpu->user_exit;
    memset(&run->io, 0, sizeof(run->padding));
    switch (stop->reason) {
    case VCPU_STOP_USER_IO:
        if (x->kind == USER_EXIT_PIO || x->kind == USER_EXIT_STRING) {
            bool string = x->kind == USER_EXIT_STRING;
            run->exit_reason = KEEL_EXIT_IO;
            run->io.direction = x->in ? KEEL_EXIT_IO_IN : KEEL_EXIT_IO_OUT;
            run->io.size = x->size;
            run->io.port = x->port;
            run->io.count = string ? x->count : 1;
            run->io.data_offset = IO_DATA_OFFSET;
            if (!string)
                memcpy((uint8_t *)run + IO_DATA_OFFSET, &x->value, x->size);
            else if (!x->in)
                memcpy((uint8_t *)run + IO_DATA_OFFSET, x->string_data, (size_t)x->count * x->size);
        } else {
            run->exit_reason = KEEL_EXIT_MMIO;
            run->mmio.phys_addr = x->gpa;
            run->mmio.len = x->insn.size;
            run->mmio.is_write = x->insn.write;
            memcpy(run->mmio.data, &x->value, sizeof(run->mmio.data));
        }
        break;
    case VCPU_STOP_HALTED:
        run->exit_reason = KEEL_EXIT_HLT;
        break;
    case VCPU_STOP_DEADLINE:
        run->exit_reason = KEEL_EXIT_INTR;
        break;
    case VCPU_STOP_IRQ_WINDOW:
        run->exit_reason = KEEL_EXIT_IRQ_WINDOW_OPEN;
        break;
    case VCPU_STOP_EOI:
        run->exit_reason = KEEL_EXIT_IOAPIC_EOI;
        run->eoi.vector = (uint8_t)stop->code;
        break;
    case VCPU_STOP_SHUTDOWN:
        run->exit_reason = KEEL_EXIT_SHUTDOWN;
        break;
    case VCPU_STOP_INVALID_STATE:
        run->exit_reason = KEEL_EXIT_FAIL_ENTRY;
        run->fail_entry.hardware_entry_failure_reason = stop->code;
        break;
    default: /* undecoded MMIO, an unhandled exit */
        run->exit_reason = KEEL_EXIT_INTERNAL_ERROR;
        run->internal.suberror = KEEL_INTERNAL_ERROR_EMULATION;
        run->internal.ndata = 6;
        run->internal.data[0] = stop->reason;
        run->internal.data[1] = stop->code; /* the GPA for MMIO, else the exit code */
        run->internal.data[2] = stop->rip;
        run->internal.data[3] = stop->insn_length; /* the instruction's bytes, not guessed */
        memcpy(&run->internal.data[4], stop->insn, sizeof(stop->insn));
        break;
    }
}

/* Completes the previous exit with what the VMM left in the run page. */
static void complete_previous_exit(struct user_vcpu *uv)
{
    const struct vcpu_user_exit *x = &uv->vcpu->user_exit;
    uint64_t value = 0;
    if (x->kind == USER_EXIT_PIO && x->in)
        memcpy(&value, (uint8_t *)uv->run + IO_DATA_OFFSET, x->size);
    else if (x->kind == USER_EXIT_MMIO && !x->insn.write)
        memcpy(&value, uv->run->mmio.data, x->insn.size);
    vcpu_complete_user_exit(uv->vcpu, value, (const uint8_t *)uv->run + IO_DATA_OFFSET);
}

static int64_t hc_run(struct partition *p, int64_t h)
{
    struct user_vcpu *uv = vcpu_of(p, h, RIGHT_RUN);
    if (!uv)
        return -KEEL_EBADF;
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&uv->running, &idle, 1, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return -KEEL_EBUSY; /* another thread runs it */
    complete_previous_exit(uv);
    struct vm_device_ops ops = {.should_stop = owner_gone, .ctx = p};
    struct vcpu_stop stop;
    struct vcpu *v = uv->vcpu;
    uint64_t deadline = uv->run->exit_deadline_tsc;
    if (deadline != v->exit_deadline_tsc)
        vcpu_set_exit_deadline(v, deadline);
    v->window_wanted = uv->run->request_interrupt_window;
    vcpu_run_loop(v, &ops, &stop);
    v->stats.exits_to_vmm++;
    describe_exit(uv, &stop);
    bool allowed = virt->interrupt_allowed(v);
    uv->run->if_flag = allowed;
    uv->run->ready_for_interrupt_injection = allowed && vcpu_extint_slot_free(v);
    uv->run->apic_base = vlapic_base_msr(&v->lapic);
    __atomic_store_n(&uv->running, 0, __ATOMIC_RELEASE);
    return 0;
}

int64_t hypercall_vm(struct partition *p, const struct trap_frame *f)
{
    switch (f->rax) {
    case KEEL_HC_CREATE_VM:
        return hc_create_vm(p);
    case KEEL_HC_SET_USER_MEMORY_REGION:
        return hc_set_memory_region(p, (int64_t)f->rdi, f->rsi);
    case KEEL_HC_CREATE_VCPU:
        return hc_create_vcpu(p, (int64_t)f->rdi, f->rsi, f->rdx);
    case KEEL_HC_RUN:
        return hc_run(p, (int64_t)f->rdi);
    case KEEL_HC_IRQ_LINE:
        return hc_irq_line(p, (int64_t)f->rdi, f->rsi);
    case KEEL_HC_SIGNAL_MSI:
        return hc_signal_msi(p, (int64_t)f->rdi, f->rsi);
    case KEEL_HC_GET_REGS:
    case KEEL_HC_SET_REGS:
        return hc_regs(p, (int64_t)f->rdi, f->rsi, f->rax == KEEL_HC_SET_REGS);
    case KEEL_HC_GET_SREGS:
    case KEEL_HC_SET_SREGS:
        return hc_sregs(p, (int64_t)f->rdi, f->rsi, f->rax == KEEL_HC_SET_SREGS);
    case KEEL_HC_INTERRUPT:
        return hc_interrupt(p, (int64_t)f->rdi, f->rsi);
    case KEEL_HC_GET_MSRS:
    case KEEL_HC_SET_MSRS:
        return hc_msrs(p, (int64_t)f->rdi, f->rsi, f->rax == KEEL_HC_SET_MSRS);
    case KEEL_HC_GET_FPU:
    case KEEL_HC_SET_FPU:
        return hc_fpu(p, (int64_t)f->rdi, f->rsi, f->rax == KEEL_HC_SET_FPU);
    case KEEL_HC_SET_CPUID:
        return hc_set_cpuid(p, (int64_t)f->rdi, f->rsi);
    case KEEL_HC_GET_STATS:
        return hc_get_stats(p, (int64_t)f->rdi, f->rsi);
    default:
        return -KEEL_ENOSYS;
    }
}

bool hypercall_vm_memory_in_use(struct partition *p, uint64_t va, uint64_t size)
{
    for (unsigned h = 1; h < PARTITION_HANDLES; h++) {
        const struct handle *e = &p->handles[h];
        if (e->kind == HANDLE_VM &&
            vm_uses_user_memory(((const struct user_vm *)e->object)->vm, p->root, va, size))
            return true;
    }
    return false;
}

void partition_kick_vcpus(struct partition *p)
{
    for (unsigned h = 1; h < PARTITION_HANDLES; h++) {
        struct handle *e = &p->handles[h];
        if (e->kind == HANDLE_VCPU)
            vcpu_kick(((struct user_vcpu *)e->object)->vcpu);
    }
}

void partition_release_vms(struct partition *p)
{
    for (unsigned h = 1; h < PARTITION_HANDLES; h++) {
        struct handle *e = &p->handles[h];
        if (e->kind == HANDLE_VCPU) {
            struct user_vcpu *uv = (struct user_vcpu *)e->object;
            vcpu_destroy(uv->vcpu);
            pmm_free_pages(uv->run_phys, 0); /* its user mapping goes with the tables */
            kfree(uv);
            e->kind = HANDLE_NONE;
        }
    }
    for (unsigned h = 1; h < PARTITION_HANDLES; h++) {
        struct handle *e = &p->handles[h];
        if (e->kind == HANDLE_VM) {
            struct user_vm *u = (struct user_vm *)e->object;
            vm_destroy(u->vm);
            kfree(u);
            e->kind = HANDLE_NONE;
        }
    }
}
