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
#include "virt.h"
#include "vm.h"
#include "vm_exit.h"

#define VEC_UD          6
#define VEC_GP          13
#define VEC_PF          14
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
    v->pending_irqs[vector / 64] |= 1ull << (vector % 64);
}

static int highest_pending_irq(const struct vcpu *v)
{
    for (int w = 3; w >= 0; w--) {
        if (v->pending_irqs[w])
            return w * 64 + 63 - __builtin_clzll(v->pending_irqs[w]);
    }
    return -1;
}

/* Injects the highest pending external interrupt when the guest can take it,
 * else asks for an interrupt-window exit. */
static void deliver_interrupts(struct vcpu *v)
{
    int vector = highest_pending_irq(v);
    if (vector < 0 || v->has_pending_event) {
        virt->request_interrupt_window(v, vector >= 0);
        return;
    }
    if (!virt->interrupt_allowed(v)) {
        virt->request_interrupt_window(v, true);
        return;
    }
    v->pending_irqs[vector / 64] &= ~(1ull << (vector % 64));
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

void vcpu_run_loop(struct vcpu *v, const struct vm_device_ops *dev, struct vcpu_stop *stop)
{
    memset(stop, 0, sizeof(*stop));
    struct vm_exit exit;
    for (;;) {
        if (v->stop_requested) {
            stop->reason = VCPU_STOP_DEVICE;
            stop->code = v->stop_code;
            return;
        }
        if (dev->should_stop && dev->should_stop(dev->ctx)) {
            stop->reason = VCPU_STOP_ABORTED;
            return;
        }
        if (sched_should_yield())
            schedule(); /* a vCPU thread shares its CPU like any other */
        deliver_interrupts(v);
        if (v->halted && !v->has_pending_event) {
            /* Nothing can wake it: no timers or virtual LAPIC yet. */
            stop->reason = VCPU_STOP_HALTED;
            return;
        }
        uint64_t flags = irq_save();
        guest_fpu_load(v);
        virt->vcpu_run(v, &exit);
        irq_restore(flags);
        v->stats.exits++;
        if (handle_exit(v, dev, &exit, stop))
            return;
    }
}
