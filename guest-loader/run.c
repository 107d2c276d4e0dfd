/*
 * The run loop (DESIGN.md section 4): KEEL_HC_RUN, then the exit described
 * in the run page, in KVM's terms. Port I/O and MMIO go to the devices and
 * the next KEEL_HC_RUN completes the instruction; HLT with nothing to wake
 * the guest, a triple fault, a failed entry or an internal error end the VM.
 * The run page is written by the core, but its fields are still checked
 * before they index anything.
 */
#include "libc.h"
#include "vmm.h"
#include "vmm_status.h"

#define RUN_PAGE_SIZE 4096u
#define RFLAGS_IF     (1ull << 9)
#define MMIO_DATA_MAX 8u

static void finish(struct vmm *v, int status)
{
    v->done = true;
    v->status = status;
}

/* KVM_EXIT_IO: count units of size bytes at run + data_offset. */
static void handle_io(struct vmm *v)
{
    struct keel_run *run = v->run;
    unsigned size = run->io.size, count = run->io.count;
    uint64_t offset = run->io.data_offset;
    bool in = run->io.direction == KEEL_EXIT_IO_IN;
    if ((size != 1 && size != 2 && size != 4) || count == 0 || offset > RUN_PAGE_SIZE ||
        (uint64_t)size * count > RUN_PAGE_SIZE - offset) {
        vmm_say("malformed I/O exit: port 0x%x size %u count %u data offset 0x%llx", run->io.port,
                size, count, (unsigned long long)offset);
        finish(v, VMM_STATUS_INTERNAL_ERROR);
        return;
    }
    uint8_t *data = (uint8_t *)run + offset;
    for (unsigned i = 0; i < count && !v->done; i++) {
        uint32_t value = 0;
        if (!in)
            memcpy(&value, data + i * size, size);
        dev_port_io(v, run->io.port, size, in, &value);
        if (in)
            memcpy(data + i * size, &value, size);
    }
}

static void handle_mmio(struct vmm *v)
{
    struct keel_run *run = v->run;
    unsigned len = run->mmio.len;
    if (len == 0 || len > MMIO_DATA_MAX) {
        vmm_say("malformed MMIO exit: %u bytes at 0x%llx", len,
                (unsigned long long)run->mmio.phys_addr);
        finish(v, VMM_STATUS_INTERNAL_ERROR);
        return;
    }
    dev_mmio(v, run->mmio.phys_addr, len, run->mmio.is_write, run->mmio.data);
}

static uint64_t guest_rip(const struct vmm *v, uint64_t *rflags)
{
    struct keel_regs r;
    if (keel_get_regs(v->vcpu, &r) < 0) {
        *rflags = 0;
        return 0;
    }
    *rflags = r.rflags;
    return r.rip;
}

/* HLT with nothing that could wake the guest: this VMM gives it no
 * interrupt source, so with interrupts on or off the VM is done. */
static void handle_halt(struct vmm *v)
{
    uint64_t rflags, rip = guest_rip(v, &rflags);
    vmm_say("guest halted at 0x%llx with interrupts %s and no device to wake it: the VM ends",
            (unsigned long long)rip, (rflags & RFLAGS_IF) ? "on" : "off");
    finish(v, VMM_STATUS_HALTED);
}

static void handle_internal_error(struct vmm *v)
{
    const struct keel_run *run = v->run;
    char data[160] = " none";
    size_t used = 0;
    for (unsigned i = 0; i < run->internal.ndata && i < 16 && used < sizeof(data); i++) {
        int w = snprintf(data + used, sizeof(data) - used, " 0x%llx",
                         (unsigned long long)run->internal.data[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    vmm_say("internal error in the core (suberror %u%s), data:%s", run->internal.suberror,
            run->internal.suberror == KEEL_INTERNAL_ERROR_EMULATION ? ": emulation" : "", data);
    finish(v, VMM_STATUS_INTERNAL_ERROR);
}

static void handle_exit(struct vmm *v)
{
    const struct keel_run *run = v->run;
    uint64_t rflags;
    if (run->exit_reason != KEEL_EXIT_IO && run->exit_reason != KEEL_EXIT_MMIO)
        uart_flush(&v->com1); /* the guest's last words before the VMM's */
    switch (run->exit_reason) {
    case KEEL_EXIT_IO:
        handle_io(v);
        break;
    case KEEL_EXIT_MMIO:
        handle_mmio(v);
        break;
    case KEEL_EXIT_HLT:
        handle_halt(v);
        break;
    case KEEL_EXIT_SHUTDOWN:
        vmm_say("guest triple-faulted (shutdown) at 0x%llx: the VM ends",
                (unsigned long long)guest_rip(v, &rflags));
        finish(v, VMM_STATUS_TRIPLE_FAULT);
        break;
    case KEEL_EXIT_FAIL_ENTRY:
        vmm_say("VM entry failed: hardware reason 0x%llx on CPU %u",
                (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                run->fail_entry.cpu);
        finish(v, VMM_STATUS_ENTRY_FAILED);
        break;
    case KEEL_EXIT_INTERNAL_ERROR:
        handle_internal_error(v);
        break;
    case KEEL_EXIT_INTR:
    case KEEL_EXIT_IRQ_WINDOW_OPEN:
        break; /* nothing to do: run again */
    default:
        vmm_say("unexpected exit reason %u", run->exit_reason);
        finish(v, VMM_STATUS_INTERNAL_ERROR);
        break;
    }
}

static void report_stats(const struct vmm *v)
{
    struct keel_vcpu_stats st;
    if (keel_get_stats(v->vcpu, &st) < 0)
        return;
    vmm_say("vCPU 0: %llu exits (%llu I/O, %llu MMIO, %llu CPUID, %llu HLT), %llu to the VMM; "
            "%llu unbacked MMIO accesses, %u to unclaimed ports",
            (unsigned long long)st.exits, (unsigned long long)st.io, (unsigned long long)st.mmio,
            (unsigned long long)st.cpuid, (unsigned long long)st.hlt,
            (unsigned long long)st.exits_to_vmm, (unsigned long long)v->mmio_accesses,
            v->ports_reported);
}

int vmm_run(struct vmm *v)
{
    while (!v->done) {
        long err = keel_run(v->vcpu);
        if (err < 0) {
            vmm_say("KEEL_HC_RUN failed: %s", keel_strerror(err));
            finish(v, VMM_STATUS_SETUP_FAILED);
            break;
        }
        handle_exit(v);
    }
    uart_flush(&v->com1);
    report_stats(v);
    return v->status;
}
