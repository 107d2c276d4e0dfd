/* Shared between the files of the SVM backend only. */
#ifndef KEEL_SVM_INTERNAL_H
#define KEEL_SVM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "percpu.h"
#include "svm/vmcb.h"
#include "vcpu.h"
#include "virt.h"

struct svm_vcpu {
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
    int last_cpu;
    bool flush_pending;
    bool reinject; /* EXITINTINFO held an event that must be delivered again */
    uint64_t reinject_event;
    /* NMI blocking, which SVM leaves to the hypervisor (APM Vol. 2 15.20):
     * set when an NMI goes in, cleared once the guest's IRET after it has
     * run (the IRET intercept exits before it; the next exit at another
     * RIP shows it done). A pending NMI waits meanwhile. */
    bool nmi_blocked;
    bool iret_seen;
    uint64_t iret_rip;
};

static inline struct svm_vcpu *svm_of(const struct vcpu *v)
{
    return v->backend;
}

/* Per-CPU VMCB-format page that VMSAVE/VMLOAD use for the host's FS, GS, TR,
 * LDTR and syscall MSRs around each VMRUN (set up by svm_cpu_enable). */
extern uint64_t svm_host_state_vmcb[MAX_CPUS];

/* CPUID Fn8000_000A EDX, read at probe time. */
extern uint32_t svm_features;
#define SVM_FEATURE_NRIP_SAVE     (1u << 3)
#define SVM_FEATURE_FLUSH_BY_ASID (1u << 6)

void svm_enter(uint64_t guest_vmcb_pa, struct guest_gprs *gprs, uint64_t host_vmcb_pa);

int svm_vcpu_create(struct vcpu *v);
void svm_vcpu_destroy(struct vcpu *v);
void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit);
void svm_get_regs(struct vcpu *v, struct keel_regs *r);
void svm_set_regs(struct vcpu *v, const struct keel_regs *r);
void svm_get_sregs(struct vcpu *v, struct keel_sregs *s);
int svm_set_sregs(struct vcpu *v, const struct keel_sregs *s);
void svm_skip_instruction(struct vcpu *v, uint32_t len);
bool svm_interrupt_allowed(struct vcpu *v);
void svm_request_interrupt_window(struct vcpu *v, bool on);
void svm_flush_guest_tlb(struct vcpu *v);
void svm_clear_events(struct vcpu *v);

/* Decodes the VMCB's exit fields into the generic record (svm_exit.c). */
void svm_decode_exit(struct vcpu *v, struct vm_exit *exit);

#endif
