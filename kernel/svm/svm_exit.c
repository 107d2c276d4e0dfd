/*
 * SVM exit decoding into the generic struct vm_exit (AMD APM Vol. 2
 * appendix C exit codes; 15.10.2 IOIO EXITINFO1; 15.25.6 nested page fault
 * EXITINFO1/2; 15.11 MSR EXITINFO1). IOIO gives the next RIP in
 * EXITINFO2; other instruction lengths come from NRIP save where the CPU
 * has it (QEMU TCG does not: DESIGN.md section 8), else from the core.
 */
#include "svm/svm_internal.h"

#define IOIO_IN       (1ull << 0)
#define IOIO_STRING   (1ull << 2)
#define IOIO_REP      (1ull << 3)
#define IOIO_SIZE8    (1ull << 4)
#define IOIO_SIZE16   (1ull << 5)
#define NPF_WRITE     (1ull << 1)
#define NPF_FETCH     (1ull << 4)
#define NPF_FINAL_GPA (1ull << 32)

/* With NRIP save the CPU reports the next RIP; without it 0, and the core
 * decodes the instruction's bytes (kernel/vm_insn.c), so prefixes count. */
static uint32_t insn_len(const struct vmcb *vmcb)
{
    if ((svm_features & SVM_FEATURE_NRIP_SAVE) && vmcb->control.next_rip > vmcb->save.rip)
        return (uint32_t)(vmcb->control.next_rip - vmcb->save.rip);
    return 0;
}

static void decode_ioio(const struct vmcb *vmcb, struct vm_exit *e)
{
    uint64_t info = vmcb->control.exit_info1;
    e->reason = VM_EXIT_IO;
    e->io.port = (uint16_t)(info >> 16);
    e->io.size = (info & IOIO_SIZE8) ? 1 : (info & IOIO_SIZE16) ? 2 : 4;
    e->io.in = info & IOIO_IN;
    e->io.string = info & IOIO_STRING;
    e->io.rep = info & IOIO_REP;
    e->insn_len = (uint32_t)(vmcb->control.exit_info2 - vmcb->save.rip);
}

static void decode_npf(const struct vmcb *vmcb, struct vm_exit *e)
{
    uint64_t err = vmcb->control.exit_info1;
    e->reason = VM_EXIT_SLAT_FAULT;
    e->slat.gpa = vmcb->control.exit_info2;
    e->slat.write = err & NPF_WRITE;
    e->slat.fetch = err & NPF_FETCH;
    e->slat.read = !e->slat.write && !e->slat.fetch;
    e->slat.translated = err & NPF_FINAL_GPA;
}

void svm_decode_exit(struct vcpu *v, struct vm_exit *e)
{
    const struct vmcb *vmcb = svm_of(v)->vmcb;
    uint32_t code = (uint32_t)vmcb->control.exit_code;
    *e = (struct vm_exit){.vendor_code = vmcb->control.exit_code, .rip = vmcb->save.rip};
    switch (code) {
    case SVM_EXIT_INTR:
    case SVM_EXIT_NMI:
        e->reason = VM_EXIT_EXTERNAL_INTERRUPT;
        break;
    case SVM_EXIT_VINTR:
    case SVM_EXIT_IRET: /* asked for while an NMI blocks NMIs (svm_vcpu.c) */
        e->reason = VM_EXIT_INTERRUPT_WINDOW;
        break;
    case SVM_EXIT_CPUID:
        e->reason = VM_EXIT_CPUID;
        e->insn_len = insn_len(vmcb);
        break;
    case SVM_EXIT_HLT:
        e->reason = VM_EXIT_HLT;
        e->insn_len = insn_len(vmcb);
        break;
    case SVM_EXIT_IOIO:
        decode_ioio(vmcb, e);
        break;
    case SVM_EXIT_MSR:
        e->reason = vmcb->control.exit_info1 ? VM_EXIT_MSR_WRITE : VM_EXIT_MSR_READ;
        e->msr.index = (uint32_t)v->gprs.rcx;
        e->msr.value = (v->gprs.rdx << 32) | (uint32_t)v->gprs.rax;
        e->insn_len = insn_len(vmcb);
        break;
    case SVM_EXIT_SHUTDOWN:
        e->reason = VM_EXIT_SHUTDOWN;
        break;
    case SVM_EXIT_VMMCALL:
        e->reason = VM_EXIT_HYPERCALL;
        e->insn_len = insn_len(vmcb);
        break;
    case SVM_EXIT_XSETBV:
        e->reason = VM_EXIT_XSETBV;
        e->insn_len = insn_len(vmcb);
        break;
    case SVM_EXIT_NPF:
        decode_npf(vmcb, e);
        break;
    case SVM_EXIT_INVALID:
        e->reason = VM_EXIT_INVALID_STATE;
        break;
    case SVM_EXIT_INVD:
        e->reason = VM_EXIT_INVALID_OPCODE; /* a guest must not drop dirty cache lines */
        break;
    default:
        if (code >= SVM_EXIT_VMRUN && code <= SVM_EXIT_MWAIT_CONDITIONAL)
            e->reason = VM_EXIT_INVALID_OPCODE; /* VMRUN ... SKINIT, MONITOR, MWAIT */
        else
            e->reason = VM_EXIT_UNHANDLED;
        break;
    }
}
