/*
 * The vCPU threads (DESIGN.md section 4; docs/vmm.md, "Threads"): one per
 * vCPU, each looping KEEL_HC_RUN and handling the exit described in its run
 * page, in KVM's terms. Port I/O and MMIO go to the board and the next
 * KEEL_HC_RUN completes the instruction. vCPU 0's thread also keeps the
 * board's timers: before each run it brings them up to date and sets the
 * run page's exit deadline to their next event. A triple fault, a failed
 * entry, an internal error, or a halt that nothing can end, on any vCPU,
 * ends the VM; so does the guest through the exit port or ACPI S5. The
 * thread that ends the VM prints every vCPU's statistics and ends the whole
 * partition (KEEL_HC_EXIT), which stops the other vCPUs wherever they are.
 * The run page is written by the core, but its fields are still checked
 * before they index anything.
 */
#include "libc.h"
#include "vmm.h"
#include "vmm_status.h"

#define RUN_PAGE_SIZE     4096u
#define RFLAGS_IF         (1ull << 9)
#define MMIO_DATA_MAX     8u
#define INTERNAL_DATA_MAX 16u
#define VCPU_STACK_SIZE   (64 * 1024)
#define LABEL_MAX         24

_Static_assert(VMM_STATUS_GUEST_EXIT != 0, "status 0 means the VM still runs");

bool vmm_finish(struct vmm *v, int status)
{
    int running = 0;
    return __atomic_compare_exchange_n(&v->status, &running, status, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static bool vm_done(struct vmm *v)
{
    return __atomic_load_n(&v->status, __ATOMIC_ACQUIRE) != 0;
}

/* " on vCPU <i>" for messages about vCPUs other than 0, "" for vCPU 0 (so
 * a one-vCPU VM says what it always said). */
static const char *label(const struct vmm_vcpu *c, char buf[LABEL_MAX])
{
    buf[0] = '\0';
    if (c->index != 0)
        snprintf(buf, LABEL_MAX, " on vCPU %u", c->index);
    return buf;
}

/* KVM_EXIT_IO: count units of size bytes at run + data_offset. */
static void handle_io(struct vmm_vcpu *c)
{
    struct vmm *v = c->vmm;
    struct keel_run *run = c->run;
    unsigned size = run->io.size, count = run->io.count;
    uint64_t offset = run->io.data_offset;
    bool in = run->io.direction == KEEL_EXIT_IO_IN;
    if ((size != 1 && size != 2 && size != 4) || count == 0 || offset > RUN_PAGE_SIZE ||
        (uint64_t)size * count > RUN_PAGE_SIZE - offset) {
        vmm_say("malformed I/O exit: port 0x%x size %u count %u data offset 0x%llx", run->io.port,
                size, count, (unsigned long long)offset);
        vmm_finish(v, VMM_STATUS_INTERNAL_ERROR);
        return;
    }
    uint8_t *data = (uint8_t *)run + offset;
    for (unsigned i = 0; i < count && !vm_done(v); i++) {
        uint32_t value = 0;
        if (!in)
            memcpy(&value, data + i * size, size);
        board_port_io(&v->board, run->io.port, size, in, &value);
        if (in)
            memcpy(data + i * size, &value, size);
    }
}

static void handle_mmio(struct vmm_vcpu *c)
{
    struct keel_run *run = c->run;
    unsigned len = run->mmio.len;
    if (len == 0 || len > MMIO_DATA_MAX) {
        vmm_say("malformed MMIO exit: %u bytes at 0x%llx", len,
                (unsigned long long)run->mmio.phys_addr);
        vmm_finish(c->vmm, VMM_STATUS_INTERNAL_ERROR);
        return;
    }
    board_mmio(&c->vmm->board, run->mmio.phys_addr, len, run->mmio.is_write, run->mmio.data);
}

static uint64_t guest_rip(const struct vmm_vcpu *c, uint64_t *rflags)
{
    struct keel_regs r;
    if (keel_get_regs(c->handle, &r) < 0) {
        *rflags = 0;
        return 0;
    }
    *rflags = r.rflags;
    return r.rip;
}

/* KEEL_EXIT_HLT: the core returns it only for a halt nothing can end (the
 * only vCPU, with interrupts off or nothing armed). vCPU 0's ends the VM; an
 * AP's (should the core report one) only ends its thread. */
static void handle_halt(struct vmm_vcpu *c)
{
    uint64_t rflags, rip = guest_rip(c, &rflags);
    if (c->index != 0) {
        vmm_say("vCPU %u halted with interrupts off: parked", c->index);
        keel_thread_exit(0);
    }
    vmm_say("guest halted at 0x%llx with interrupts %s and no device to wake it: the VM ends",
            (unsigned long long)rip, (rflags & RFLAGS_IF) ? "on" : "off");
    vmm_finish(c->vmm, VMM_STATUS_HALTED);
}

static void handle_internal_error(struct vmm_vcpu *c)
{
    const struct keel_run *run = c->run;
    char data[160] = " none", on[LABEL_MAX];
    size_t used = 0;
    for (unsigned i = 0; i < run->internal.ndata && i < INTERNAL_DATA_MAX && used < sizeof(data);
         i++) {
        int w = snprintf(data + used, sizeof(data) - used, " 0x%llx",
                         (unsigned long long)run->internal.data[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    vmm_say("internal error in the core%s (suberror %u%s), data:%s", label(c, on),
            run->internal.suberror,
            run->internal.suberror == KEEL_INTERNAL_ERROR_EMULATION ? ": emulation" : "", data);
    vmm_finish(c->vmm, VMM_STATUS_INTERNAL_ERROR);
}

/* Exits that end the VM; the guest's last words go out before the VMM's. */
static void handle_fatal_exit(struct vmm_vcpu *c)
{
    const struct keel_run *run = c->run;
    struct vmm *v = c->vmm;
    char on[LABEL_MAX];
    uint64_t rflags;
    board_flush_console(&v->board);
    switch (run->exit_reason) {
    case KEEL_EXIT_HLT:
        handle_halt(c);
        break;
    case KEEL_EXIT_SHUTDOWN:
        vmm_say("guest triple-faulted (shutdown)%s at 0x%llx: the VM ends", label(c, on),
                (unsigned long long)guest_rip(c, &rflags));
        vmm_finish(v, VMM_STATUS_TRIPLE_FAULT);
        break;
    case KEEL_EXIT_FAIL_ENTRY:
        vmm_say("VM entry failed%s: hardware reason 0x%llx on CPU %u", label(c, on),
                (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                run->fail_entry.cpu);
        vmm_finish(v, VMM_STATUS_ENTRY_FAILED);
        break;
    case KEEL_EXIT_INTERNAL_ERROR:
        handle_internal_error(c);
        break;
    default:
        vmm_say("unexpected exit reason %u%s", run->exit_reason, label(c, on));
        vmm_finish(v, VMM_STATUS_INTERNAL_ERROR);
        break;
    }
}

static void handle_exit(struct vmm_vcpu *c)
{
    const struct keel_run *run = c->run;
    switch (run->exit_reason) {
    case KEEL_EXIT_IO:
        handle_io(c);
        break;
    case KEEL_EXIT_MMIO:
        handle_mmio(c);
        break;
    case KEEL_EXIT_IOAPIC_EOI:
        board_eoi(&c->vmm->board, run->eoi.vector);
        break;
    case KEEL_EXIT_INTR: /* vCPU 0's exit deadline: the timers are brought up to date next */
    case KEEL_EXIT_IRQ_WINDOW_OPEN:
        break;
    default:
        handle_fatal_exit(c);
        break;
    }
}

/* The plan's per-vCPU line (the boot tests match it). */
static void report_stats(const struct vmm_vcpu *c)
{
    struct keel_vcpu_stats st;
    long err = keel_get_stats(c->handle, &st);
    if (err < 0) {
        vmm_say("vCPU %u: no statistics: %s", c->index, keel_strerror(err));
        return;
    }
    vmm_say("vCPU %u: %llu exits (%llu I/O, %llu MMIO, %llu CPUID, %llu HLT), %llu to the VMM; "
            "%llu halts blocked, %llu IPIs sent, %llu IPIs received, %llu timer interrupts, "
            "%llu interrupts injected",
            c->index, (unsigned long long)st.exits, (unsigned long long)st.io,
            (unsigned long long)st.mmio, (unsigned long long)st.cpuid, (unsigned long long)st.hlt,
            (unsigned long long)st.exits_to_vmm, (unsigned long long)st.halts_blocked,
            (unsigned long long)st.ipis_sent, (unsigned long long)st.ipis_received,
            (unsigned long long)st.timer_interrupts, (unsigned long long)st.injected_interrupts);
}

/* The first thread here reports and ends the partition with the VM's
 * status; the core stops the other threads, also those blocked in a
 * halted guest. A later thread only ends itself. */
_Noreturn static void end_partition(struct vmm *v)
{
    int none = 0;
    if (!__atomic_compare_exchange_n(&v->exiting, &none, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        keel_thread_exit(0);
    board_flush_console(&v->board);
    for (unsigned i = 0; i < v->vcpu_count; i++)
        report_stats(&v->vcpus[i]);
    vmm_say("devices: %llu unbacked MMIO accesses, %u to unclaimed ports",
            (unsigned long long)v->board.mmio_accesses, v->board.ports_reported);
    keel_exit(__atomic_load_n(&v->status, __ATOMIC_ACQUIRE));
}

void vmm_pin_vcpu_thread(const struct vmm *v, unsigned index)
{
    const struct vmm_args *a = &v->args;
    if (a->affinity_count == 0)
        return;
    unsigned cpu = a->affinity[index % a->affinity_count];
    long err = keel_thread_affinity(1ull << cpu);
    if (err == -KEEL_EINVAL)
        vmm_say("affinity: CPU %u is not online; vCPU %u floats", cpu, index);
    else if (err < 0)
        vmm_say("affinity: vCPU %u cannot be pinned to CPU %u (%s); it floats", index, cpu,
                keel_strerror(err));
}

_Noreturn static void run_vcpu(struct vmm_vcpu *c)
{
    struct vmm *v = c->vmm;
    struct board *b = &v->board;
    char on[LABEL_MAX];
    if (c->index != 0) /* vCPU 0's thread, the main one, was pinned before the setup */
        vmm_pin_vcpu_thread(v, c->index);
    while (!vm_done(v)) {
        if (c->index == 0)
            board_prepare_vcpu0_run(b, c->run); /* device timers, the PIC, the deadline */
        else
            c->run->exit_deadline_tsc = 0;
        long err = keel_run(c->handle);
        if (err < 0) {
            vmm_say("KEEL_HC_RUN failed%s: %s", label(c, on), keel_strerror(err));
            vmm_finish(v, VMM_STATUS_SETUP_FAILED);
            break;
        }
        handle_exit(c);
    }
    end_partition(v);
}

static void vcpu_thread(void *arg)
{
    run_vcpu(arg);
}

void vmm_run(struct vmm *v)
{
    for (unsigned i = 1; i < v->vcpu_count; i++) {
        long err = keel_thread_spawn(vcpu_thread, &v->vcpus[i], VCPU_STACK_SIZE);
        if (err < 0) {
            vmm_say("cannot start the thread of vCPU %u: %s", i, keel_strerror(err));
            vmm_finish(v, VMM_STATUS_SETUP_FAILED);
            break;
        }
    }
    run_vcpu(&v->vcpus[0]);
}
