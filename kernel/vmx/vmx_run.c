/*
 * vcpu_run for VT-x: enter the guest, decode the VM exit (SDM Vol. 3C
 * chapter 28; exit reasons in appendix C) into the generic struct vm_exit,
 * and loop on the exits the backend handles itself (CR accesses, INVD,
 * WBINVD, window exits it asked for, faults for instructions a CPU without
 * VMX would refuse). Called with local interrupts disabled; a host
 * interrupt that arrives in guest mode exits and is taken right here.
 */
#include "cpu.h"
#include "percpu.h"
#include "printk.h"
#include "traps.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_internal.h"

#define VMFAIL_VALID   1 /* vmx_entry.asm's return values */
#define VMFAIL_INVALID 2

/* VM exit leaves the GDTR limit at 0xffff (28.5.2); ring 3 must not load
 * selectors from beyond the real GDT, so the limit is put back at once.
 * The IDTR limit (also 0xffff) does no harm. */
static void restore_gdt_limit(void)
{
    struct descriptor_table_pointer p = {sizeof(struct gdt) - 1, (uint64_t)&this_cpu()->gdt};
    __asm__ volatile("lgdt %0" : : "m"(p) : "memory");
}

/* With "acknowledge interrupt on exit" off, the interrupt is still pending
 * in the local APIC (28.2.2); one instruction after STI it is taken through
 * the host IDT. */
static void take_host_interrupt(void)
{
    __asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");
}

static bool instruction_exit(struct vm_exit *exit, enum vm_exit_reason reason)
{
    exit->reason = reason;
    exit->insn_len = (uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN);
    return true;
}

/* Exit reason 0 (28.2.2): an NMI is the host's and goes to its handler
 * (NMIs stay blocked until that handler's IRET); anything else is a guest
 * exception the exception bitmap asked for. */
static bool decode_exception_or_nmi(struct vm_exit *exit)
{
    uint32_t info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);
    uint32_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    if (type == INTR_TYPE_NMI) {
        __asm__ volatile("int %0" : : "i"(VEC_NMI) : "memory");
        exit->reason = VM_EXIT_EXTERNAL_INTERRUPT;
        return true;
    }
    exit->reason = VM_EXIT_EXCEPTION;
    exit->exception.vector = info & INTR_INFO_VECTOR_MASK;
    exit->exception.has_error = info & INTR_INFO_ERROR_VALID;
    if (exit->exception.has_error)
        exit->exception.error_code = (uint32_t)vmcs_read(VMCS_EXIT_INTR_ERROR);
    if (type == INTR_TYPE_SOFT_EXCEPTION)
        exit->insn_len = (uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN);
    return true;
}

static bool decode_io(struct vm_exit *exit, uint64_t q)
{
    exit->io.port = (q >> IOQ_PORT_SHIFT) & IOQ_PORT_MASK;
    exit->io.size = (uint8_t)((q & IOQ_SIZE_MASK) + 1);
    exit->io.in = q & IOQ_IN;
    exit->io.string = q & IOQ_STRING;
    exit->io.rep = q & IOQ_REP;
    return instruction_exit(exit, VM_EXIT_IO);
}

static bool decode_msr(struct vcpu *v, struct vm_exit *exit, bool write)
{
    exit->msr.index = (uint32_t)v->gprs.rcx;
    if (write)
        exit->msr.value = (v->gprs.rdx << 32) | (uint32_t)v->gprs.rax;
    return instruction_exit(exit, write ? VM_EXIT_MSR_WRITE : VM_EXIT_MSR_READ);
}

/* EPT violation (28.2.1 table 28-7). An IRET that unblocked NMIs and then
 * faulted will run again: NMIs are blocked again until it does (28.2.3). */
static bool decode_ept_violation(struct vmx_vcpu *x, struct vm_exit *exit, uint64_t q)
{
    exit->reason = VM_EXIT_SLAT_FAULT;
    exit->slat.gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
    exit->slat.read = q & EPTQ_READ;
    exit->slat.write = q & EPTQ_WRITE;
    exit->slat.fetch = q & EPTQ_FETCH;
    exit->slat.translated = q & EPTQ_LINEAR_VALID;
    if ((q & EPTQ_NMI_UNBLOCK) && vmx_config.virtual_nmis && !x->event.valid)
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
                   vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) | INTR_BLOCK_NMI);
    return true;
}

/* VMX instructions (and GETSEC, MONITOR/MWAIT) behave as on a CPU whose
 * CPUID does not list them: #UD (Vol. 2, each instruction's exceptions). */
static bool raises_ud(uint32_t basic)
{
    return (basic >= EXIT_VMCALL + 1 && basic <= EXIT_VMXON) || basic == EXIT_INVEPT ||
           basic == EXIT_INVVPID || basic == EXIT_VMFUNC || basic == EXIT_GETSEC ||
           basic == EXIT_MWAIT || basic == EXIT_MONITOR;
}

/* Exits the backend finishes itself (false: none of them, report it). */
static bool handle_internally(struct vcpu *v, struct vmx_vcpu *x, uint32_t basic)
{
    switch (basic) {
    case EXIT_CR_ACCESS:
        return vmx_handle_cr_access(v, x, vmcs_read(VMCS_EXIT_QUALIFICATION),
                                    (uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN));
    case EXIT_INVD: /* no cache to drop that the guest could notice */
    case EXIT_WBINVD:
        vmx_advance_rip((uint32_t)vmcs_read(VMCS_EXIT_INSN_LEN));
        return true;
    case EXIT_RDPMC: /* no performance counters for guests: #GP(0) */
        vmx_queue_exception(x, VEC_GP_FAULT, 0);
        return true;
    case EXIT_NMI_WINDOW: /* asked for by vmx_inject_events for a deferred NMI */
        return true;
    default:
        if (raises_ud(basic)) {
            vmx_queue_exception(x, VEC_INVALID_OPCODE, 0);
            return true;
        }
        return false;
    }
}

/* Fills exit; returns false when the exit was handled here and the guest
 * can be re-entered. */
static bool decode_exit(struct vcpu *v, struct vmx_vcpu *x, struct vm_exit *exit)
{
    uint32_t reason = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
    *exit = (struct vm_exit){.vendor_code = reason, .rip = vmcs_read(VMCS_GUEST_RIP)};
    if (reason & EXIT_REASON_ENTRY_FAIL) { /* 33, 34, 41: nothing ran (27.8) */
        exit->reason = VM_EXIT_INVALID_STATE;
        return true;
    }
    x->launched = true;
    vmx_save_idt_vectoring(x);
    uint32_t basic = reason & EXIT_REASON_BASIC_MASK;
    switch (basic) {
    case EXIT_CPUID:
        return instruction_exit(exit, VM_EXIT_CPUID);
    case EXIT_IO:
        return decode_io(exit, vmcs_read(VMCS_EXIT_QUALIFICATION));
    case EXIT_EPT_VIOLATION:
        return decode_ept_violation(x, exit, vmcs_read(VMCS_EXIT_QUALIFICATION));
    case EXIT_RDMSR:
    case EXIT_WRMSR:
        return decode_msr(v, exit, basic == EXIT_WRMSR);
    case EXIT_HLT:
        return instruction_exit(exit, VM_EXIT_HLT);
    case EXIT_EXTERNAL_INTERRUPT:
    case EXIT_PREEMPTION_TIMER: /* the slice ended: the core gets a look in */
        take_host_interrupt();
        exit->reason = VM_EXIT_EXTERNAL_INTERRUPT;
        return true;
    case EXIT_EXCEPTION_NMI:
        return decode_exception_or_nmi(exit);
    case EXIT_INTERRUPT_WINDOW:
        if (!x->want_window)
            return false; /* asked for by vmx_inject_events: inject now */
        exit->reason = VM_EXIT_INTERRUPT_WINDOW;
        return true;
    case EXIT_TRIPLE_FAULT:
        exit->reason = VM_EXIT_SHUTDOWN;
        return true;
    case EXIT_VMCALL:
        return instruction_exit(exit, VM_EXIT_HYPERCALL);
    case EXIT_XSETBV:
        return instruction_exit(exit, VM_EXIT_XSETBV);
    case EXIT_EPT_MISCONFIG: /* Keel's own EPT tables are wrong: end the VM */
        exit->reason = VM_EXIT_INVALID_STATE;
        return true;
    default:
        if (handle_internally(v, x, basic))
            return false;
        exit->reason = VM_EXIT_UNHANDLED; /* task switch, INIT, ...: vendor_code tells */
        return true;
    }
}

/* VMLAUNCH/VMRESUME failed as an instruction (31.2, 27.1-27.2): a control
 * or host-state field is wrong. */
static void report_vmfail(struct vcpu *v, int failed, struct vm_exit *exit)
{
    uint64_t error = failed == VMFAIL_VALID ? vmcs_read(VMCS_INSN_ERROR) : 0;
    *exit = (struct vm_exit){.reason = VM_EXIT_INVALID_STATE,
                             .vendor_code = VMX_VENDOR_VMFAIL | error,
                             .rip = vmcs_read(VMCS_GUEST_RIP)};
    pr_warn("vmx: vCPU %u: VM entry failed (%s, VM-instruction error %llu)", v->id,
            failed == VMFAIL_VALID ? "VMfailValid" : "VMfailInvalid", (unsigned long long)error);
}

void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
    struct vmx_vcpu *x = v->backend;
    if (vmx_vmcs_load(x) != 0) {
        *exit = (struct vm_exit){.reason = VM_EXIT_INVALID_STATE, .vendor_code = VMX_VENDOR_VMFAIL};
        return;
    }
    vmx_refresh_host_state(x);
    for (;;) {
        if (x->flush_pending)
            vmx_flush_now(v, x);
        vmx_inject_events(v, x);
        if (read_cr2() != x->cr2) /* CR2 is not in the VMCS */
            write_cr2(x->cr2);
        int failed = vmx_enter(&v->gprs, x->launched, &x->host_rsp);
        x->cr2 = read_cr2();
        restore_gdt_limit();
        if (failed) {
            report_vmfail(v, failed, exit);
            return;
        }
        if (decode_exit(v, x, exit))
            return;
    }
}
