/*
 * The run loop (DESIGN.md section 4): enter the guest, decode the exit,
 * handle in the core what is hot and small, deliver pending events, repeat
 * until the guest stops or the device handler asks to stop.
 */
#include "cpu.h"
#include "cpuid_policy.h"
#include "guest_fpu.h"
#include "kstring.h"
#include "layout.h"
#include "sched/sched.h"
#include "sched/thread.h"
#include "virt.h"
#include "vm_lapic.h"
#include "vm.h"
#include "vm_exit.h"

#define VEC_UD          6
#define VEC_GP          13
#define VEC_PF          14
#define VEC_NMI_GUEST   2
#define CR4_OSXSAVE_BIT (1ull << 18)

void vcpu_request_stop(struct vcpu *v, uint64_t code)
{
    v->stop_requested = true;
    v->stop_code = code;
}

void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error_code)
{
    v->pending_event = (struct vcpu_event){.type = EVENT_EXCEPTION,
                                           .vector = vector,
                                           .has_error = has_error,
                                           .error_code = error_code};
    v->has_pending_event = true;
    v->stats.injected_exceptions++;
}

void vcpu_raise_interrupt(struct vcpu *v, uint8_t vector)
{
    __atomic_fetch_or(&v->pending_irqs[vector / 64], 1ull << (vector % 64), __ATOMIC_RELEASE);
}

/* An ExtINT from the VMM's PIC (KEEL_HC_INTERRUPT), when the local APIC
 * takes ExtINT (globally disabled, or LINT0 in ExtINT mode); else -1. */
static int pending_extint(const struct vcpu *v)
{
    if (!vlapic_accepts_extint(&v->lapic))
        return -1;
    for (int w = 3; w >= 0; w--) {
        uint64_t bits = __atomic_load_n(&v->pending_irqs[w], __ATOMIC_ACQUIRE);
        if (bits)
            return w * 64 + 63 - __builtin_clzll(bits);
    }
    return -1;
}

bool vcpu_extint_slot_free(const struct vcpu *v)
{
    for (unsigned w = 0; w < 4; w++) {
        if (__atomic_load_n(&v->pending_irqs[w], __ATOMIC_ACQUIRE))
            return false;
    }
    return !v->has_pending_event && vlapic_accepts_extint(&v->lapic);
}

bool vcpu_ready_for_extint(struct vcpu *v)
{
    return vcpu_extint_slot_free(v) && virt->interrupt_allowed(v);
}

/* Nothing could be delivered: no NMI, no ExtINT, an empty IRR. The common
 * case on every exit, so plain loads only (a sender that sets a bit after
 * this look also kicks the vCPU, whose next entry then exits at once). */
static bool nothing_to_deliver(const struct vcpu *v)
{
    uint64_t extint = 0;
    for (unsigned w = 0; w < 4; w++)
        extint |= __atomic_load_n(&v->pending_irqs[w], __ATOMIC_RELAXED);
    return !extint && !vlapic_nmi_pending(&v->lapic) && vlapic_irr_empty(&v->lapic);
}

/* NMIs first, then the PIC's ExtINT, then the highest vector the LAPIC's
 * priority rules let through (SDM Vol. 3A 11.8.3); when the guest cannot
 * take an interrupt now, an interrupt-window exit is asked for. An NMI
 * also waits while the guest's NMI handler runs: the backends keep it
 * pending (VMX: virtual NMIs and NMI-window exits; SVM: the handler's IRET
 * is intercepted). */
static void deliver_interrupts(struct vcpu *v)
{
    /* The VMM's PIC can only get in when the LAPIC takes ExtINT: asking for
     * a window otherwise would exit at once, forever (KVM checks the same). */
    bool window_for_vmm = v->window_wanted && vlapic_accepts_extint(&v->lapic);
    if (!v->has_pending_event && nothing_to_deliver(v)) {
        virt->request_interrupt_window(v, window_for_vmm);
        return;
    }
    if (!v->has_pending_event && vlapic_take_nmi(&v->lapic)) {
        v->pending_event = (struct vcpu_event){.type = EVENT_NMI, .vector = VEC_NMI_GUEST};
        v->has_pending_event = true;
        v->halted = false;
        v->stats.injected_nmis++;
    }
    int extint = pending_extint(v);
    int vector = extint >= 0 ? extint : vlapic_pending_vector(&v->lapic);
    if (vector < 0 || v->has_pending_event) {
        virt->request_interrupt_window(v, vector >= 0 || window_for_vmm);
        return;
    }
    if (!virt->interrupt_allowed(v)) {
        virt->request_interrupt_window(v, true);
        return;
    }
    if (extint >= 0)
        __atomic_fetch_and(&v->pending_irqs[vector / 64], ~(1ull << (vector % 64)),
                           __ATOMIC_ACQ_REL);
    else
        vlapic_ack(&v->lapic, (uint8_t)vector);
    v->pending_event = (struct vcpu_event){.type = EVENT_EXTERNAL, .vector = (uint8_t)vector};
    v->has_pending_event = true;
    v->halted = false;
    v->stats.injected_interrupts++;
    virt->request_interrupt_window(v, false);
}

static void handle_cpuid(struct vcpu *v, const struct vm_exit *e)
{
    uint32_t leaf = (uint32_t)v->gprs.rax;
    struct cpuid_guest guest = {.vcpu_id = v->id,
                                .xcr0_allowed = guest_fpu_xcr0_allowed(),
                                .entries = v->cpuid_entries,
                                .entry_count = v->cpuid_count};
    if (leaf == 1) { /* OSXSAVE mirrors the guest's CR4 */
        struct keel_sregs s;
        virt->get_sregs(v, &s);
        guest.osxsave = s.cr4 & CR4_OSXSAVE_BIT;
    }
    struct cpuid_regs r = cpuid_policy(leaf, (uint32_t)v->gprs.rcx, &guest);
    v->gprs.rax = r.eax;
    v->gprs.rbx = r.ebx;
    v->gprs.rcx = r.ecx;
    v->gprs.rdx = r.edx;
    virt->skip_instruction(v, e->insn_len);
    v->stats.cpuid++;
}

/* XSETBV always exits on VMX and is intercepted on SVM: the guest's XCR0
 * is switched with its state (guest_fpu.c), never the host's by accident. */
static void handle_xsetbv(struct vcpu *v, const struct vm_exit *e)
{
    struct keel_sregs s;
    virt->get_sregs(v, &s);
    uint64_t value = (v->gprs.rdx << 32) | (uint32_t)v->gprs.rax;
    int vector =
        guest_fpu_xsetbv(v, (uint32_t)v->gprs.rcx, value, s.cr4 & CR4_OSXSAVE_BIT, s.ss.dpl == 0);
    if (vector)
        vcpu_queue_exception(v, (uint8_t)vector, vector == VEC_GP, 0);
    else
        virt->skip_instruction(v, e->insn_len);
}

static bool stop_with(struct vcpu_stop *stop, enum vcpu_stop_reason why, const struct vm_exit *e)
{
    stop->reason = why;
    stop->code = e->vendor_code;
    stop->rip = e->rip;
    return true;
}

/* Handles one exit; returns true when the vCPU stops. */
static bool handle_exit(struct vcpu *v, const struct vm_device_ops *dev, struct vm_exit *e,
                        struct vcpu_stop *stop)
{
    if (!vm_fill_insn_length(v, e))
        return stop_with(stop, VCPU_STOP_UNHANDLED, e);
    switch (e->reason) {
    case VM_EXIT_CPUID:
        handle_cpuid(v, e);
        return false;
    case VM_EXIT_HLT:
        v->stats.hlt++;
        virt->skip_instruction(v, e->insn_len);
        v->halted = true;
        return false;
    case VM_EXIT_IO:
        v->stats.io++;
        return vm_exit_io(v, dev, e, stop);
    case VM_EXIT_MSR_READ:
    case VM_EXIT_MSR_WRITE:
        v->stats.msr++;
        return vm_exit_msr(v, e);
    case VM_EXIT_SLAT_FAULT:
        v->stats.slat_fault++;
        return vm_exit_slat_fault(v, dev, e, stop);
    case VM_EXIT_EXTERNAL_INTERRUPT:
        v->stats.irq++;
        return false;
    case VM_EXIT_INTERRUPT_WINDOW:
        v->stats.irq_window++;
        return false;
    case VM_EXIT_SHUTDOWN:
        return stop_with(stop, VCPU_STOP_SHUTDOWN, e);
    case VM_EXIT_INVALID_STATE:
        return stop_with(stop, VCPU_STOP_INVALID_STATE, e);
    case VM_EXIT_XSETBV:
        handle_xsetbv(v, e);
        return false;
    case VM_EXIT_HYPERCALL:
    case VM_EXIT_INVALID_OPCODE:
        /* No hypercalls, no XSAVE, no nested virtualization for guests yet:
         * what a CPU without them would do. */
        vcpu_queue_exception(v, VEC_UD, false, 0);
        return false;
    case VM_EXIT_UNHANDLED:
        /* e.g. a hardware task switch: stopping beats guessing. */
        return stop_with(stop, VCPU_STOP_UNHANDLED, e);
    default:
        return stop_with(stop, VCPU_STOP_UNHANDLED, e);
    }
}

static bool deadline_passed(const struct vcpu *v)
{
    return v->exit_deadline_tsc && rdtsc() >= v->exit_deadline_tsc;
}

/* Why a run must end before the next entry, or VCPU_STOP_NONE. */
static bool must_stop(struct vcpu *v, const struct vm_device_ops *dev, struct vcpu_stop *stop)
{
    uint8_t vector;
    if (v->stop_requested) {
        stop->reason = VCPU_STOP_DEVICE;
        stop->code = v->stop_code;
    } else if (dev->should_stop && dev->should_stop(dev->ctx)) {
        stop->reason = VCPU_STOP_ABORTED;
    } else if (v->eoi_exit_pending && vcpu_take_eoi_exit(v, &vector)) {
        stop->reason = VCPU_STOP_EOI;
        stop->code = vector;
    } else if (deadline_passed(v) && (v->entered_this_run || v->halted)) {
        /* Not before the guest has run once: a deadline that is always
         * past (a PIT counting 2) would otherwise never let it run. */
        stop->reason = VCPU_STOP_DEADLINE;
    } else {
        return false;
    }
    return true;
}

struct wait_ctx {
    struct vcpu *v;
    const struct vm_device_ops *dev;
    bool wake_on_interrupt; /* RFLAGS.IF was set at the HLT */
};

/* Evaluated under the run-queue lock (sched_block_unless): what ends a
 * wait in HLT or for a start-up IPI. Reads only, no VMCS access. */
static bool wait_over(void *arg)
{
    const struct wait_ctx *w = arg;
    struct vcpu *v = w->v;
    if (v->stop_requested || (w->dev->should_stop && w->dev->should_stop(w->dev->ctx)) ||
        deadline_passed(v) || rdtsc() >= v->lapic_deadline_tsc)
        return true;
    const struct vlapic *a = &v->lapic;
    bool owner_work = vlapic_owner_work_pending(a); /* INIT, SIPI, a LINT change */
    if (v->mp_state == VCPU_MP_WAIT_SIPI)
        return owner_work;
    if (owner_work || vlapic_nmi_pending(a))
        return true;
    return w->wake_on_interrupt && (vlapic_pending_vector(a) >= 0 || pending_extint(v) >= 0);
}

/* Blocks until wait_over: the vCPU costs no CPU meanwhile. */
static void block(struct vcpu *v, const struct vm_device_ops *dev, bool wake_on_interrupt)
{
    struct wait_ctx w = {v, dev, wake_on_interrupt};
    bool in_hlt = v->mp_state == VCPU_MP_RUNNABLE;
    if (in_hlt)
        v->stats.halts_blocked++;
    sched_block_unless(wait_over, &w);
    if (in_hlt)
        v->stats.halt_wakeups++;
}

/* A halted vCPU that nothing could ever wake: the only vCPU of its VM,
 * with interrupts off (only an NMI or INIT could end that HLT, and a VM
 * with one vCPU has no source of those but its VMM, which is told), or
 * with neither its LAPIC timer nor the VMM's exit deadline armed. */
static bool halted_for_good(struct vcpu *v, bool wake_on_interrupt)
{
    if (v->vm->vcpu_count > 1)
        return false;
    return !wake_on_interrupt || (v->lapic_deadline_tsc == UINT64_MAX && !v->exit_deadline_tsc);
}

/* INIT and start-up IPIs (SDM Vol. 3A 9.4.4): INIT resets the vCPU (an AP
 * then waits for a start-up IPI, the BSP restarts as KVM's does); a SIPI
 * starts a waiting AP in real mode at CS = vector << 8, IP 0. Returns true
 * when the vCPU has nothing to run yet. */
static bool handle_init_sipi(struct vcpu *v)
{
    if (v->mp_state == VCPU_MP_RUNNABLE && !vlapic_owner_work_pending(&v->lapic))
        return false;                      /* the common case, without atomic read-modify-writes */
    vlapic_apply_lint_requests(&v->lapic); /* KEEL_HC_IRQ_LINE's levels (may raise INIT) */
    if (vlapic_take_init(&v->lapic)) {
        vcpu_reset_for_init(v);
        v->mp_state = v->id == 0 ? VCPU_MP_RUNNABLE : VCPU_MP_WAIT_SIPI;
    }
    int sipi = vlapic_take_sipi(&v->lapic);
    if (sipi >= 0 && v->mp_state == VCPU_MP_WAIT_SIPI) {
        vcpu_start_at_sipi(v, (uint8_t)sipi);
        v->mp_state = VCPU_MP_RUNNABLE;
    }
    return v->mp_state == VCPU_MP_WAIT_SIPI;
}

void vcpu_run_loop(struct vcpu *v, const struct vm_device_ops *dev, struct vcpu_stop *stop)
{
    memset(stop, 0, sizeof(*stop));
    struct vm_exit exit;
    vcpu_set_thread(v, thread_current());
    v->entered_this_run = false;
    sched_become_vcpu_thread();
    for (;;) {
        if (must_stop(v, dev, stop))
            break;
        if (sched_should_yield())
            schedule(); /* a vCPU thread shares its CPU like any other */
        if (handle_init_sipi(v)) {
            block(v, dev, false);
            continue;
        }
        if (rdtsc() >= v->lapic_deadline_tsc)
            vlapic_timer_poll(&v->lapic); /* only when its host timer is due */
        deliver_interrupts(v);
        if (v->window_wanted && vcpu_ready_for_extint(v)) {
            stop->reason = VCPU_STOP_IRQ_WINDOW; /* the VMM's PIC may interrupt now */
            break;
        }
        if (v->halted && !v->has_pending_event) {
            bool wake_on_interrupt = virt->interrupt_allowed(v);
            if (halted_for_good(v, wake_on_interrupt)) {
                stop->reason = VCPU_STOP_HALTED;
                break;
            }
            block(v, dev, wake_on_interrupt);
            continue;
        }
        uint64_t flags = irq_save();
        guest_fpu_load(v);
        virt->vcpu_run(v, &exit);
        irq_restore(flags);
        v->entered_this_run = true;
        v->stats.exits++;
        if (handle_exit(v, dev, &exit, stop))
            break;
    }
    vcpu_set_thread(v, 0);
}
