/*
 * Hardware virtualization behind one face (DESIGN.md section 1): each backend
 * (kernel/vmx/, kernel/svm/) fills a struct virt_ops; generic code never sees
 * a VMCS field or a VMCB offset. The backend is chosen at boot from CPUID.
 */
#ifndef KEEL_VIRT_H
#define KEEL_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/slat.h"
#include "vcpu.h"

#define VIRT_REASON_MAX   200
#define VIRT_FEATURES_MAX 240

/* What a backend found on the boot CPU. */
struct virt_caps {
    bool usable;                      /* everything Keel requires is there */
    char reason[VIRT_REASON_MAX];     /* when !usable: what is missing and what to do */
    char features[VIRT_FEATURES_MAX]; /* when usable: the features, for the boot report */
    bool slat_1g_pages;
    bool slat_2m_pages;
    uint32_t address_space_ids; /* VPIDs or ASIDs available (0: none) */
};

struct virt_ops {
    const char *name; /* "vmx" or "svm" */
    /* True when CPUID says this vendor's extension exists at all. */
    bool (*present)(void);
    /* Reads capabilities on the calling CPU; fills caps (usable or reason). */
    void (*probe)(struct virt_caps *caps);
    /* Turns the extension on for the calling CPU. Returns 0, or -1 with a
     * reason in buf (of size VIRT_REASON_MAX). */
    int (*cpu_enable)(char *buf);
    /* Turns it off again on the calling CPU (when another CPU failed). */
    void (*cpu_disable)(void);

    /* ---- VMs and vCPUs (generic code in kernel/vm.c drives these) ---- */
    enum slat_format slat_format;
    /* Allocates the backend state of v (v->vm is set, v->vm->slat built) and
     * puts v in the architectural reset state (SDM Vol. 3A 10.1.1 table 10-1,
     * APM Vol. 2 14.1.3): real mode, CS.selector 0xf000 with base
     * 0xffff0000, RIP 0xfff0, RFLAGS 2, CR0 0x60000010, EDX the CPU
     * signature. Sets the intercepts the core needs (CPUID, HLT, I/O, MSR,
     * INVD, XSETBV, shutdown, VMCALL/VMMCALL, the SVM/VMX instructions,
     * external interrupts, NMI). Returns 0 or -1 (no memory). */
    int (*vcpu_create)(struct vcpu *v);
    void (*vcpu_destroy)(struct vcpu *v);
    /* Enters the guest on the calling CPU and runs it until an exit, which it
     * decodes into exit. When v->has_pending_event is set the event is
     * injected on this entry and the flag cleared. The caller keeps local
     * interrupts disabled around the call; a host interrupt that arrives in
     * guest mode exits with VM_EXIT_EXTERNAL_INTERRUPT and is taken by the
     * host once the backend re-enables interrupts (STGI / IF). The vCPU may
     * have run on another CPU last time (its thread migrates): the backend
     * moves its state over (VMX: VMCLEAR there, VMPTRLD here; SVM: a TLB
     * flush for its ASID). */
    void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
    void (*get_regs)(struct vcpu *v, struct keel_regs *r);
    void (*set_regs)(struct vcpu *v, const struct keel_regs *r);
    void (*get_sregs)(struct vcpu *v, struct keel_sregs *s);
    /* Returns 0, or -1 when the state is not one the hardware accepts. */
    int (*set_sregs)(struct vcpu *v, const struct keel_sregs *s);
    /* Advances RIP by len (past the exiting instruction) and clears the
     * interrupt shadow (STI / MOV SS blocking). */
    void (*skip_instruction)(struct vcpu *v, uint32_t len);
    /* True when an external interrupt could be delivered now: RFLAGS.IF set
     * and no STI / MOV SS shadow. */
    bool (*interrupt_allowed)(struct vcpu *v);
    /* Asks for (or stops asking for) an exit as soon as interrupt_allowed. */
    void (*request_interrupt_window)(struct vcpu *v, bool on);
    /* Drops the guest's cached translations (after SLAT changes). */
    void (*flush_guest_tlb)(struct vcpu *v);
    /* INIT (SDM Vol. 3A 9.1, APM Vol. 2 14.1.3): drops the blocking by STI,
     * MOV SS and NMI and any event the backend still means to deliver. */
    void (*clear_events)(struct vcpu *v);
};

extern const struct virt_ops vmx_ops;
extern const struct virt_ops svm_ops;

/* The backend in use, or NULL when virtualization is unavailable. */
extern const struct virt_ops *virt;
extern struct virt_caps virt_caps;

/* Chooses the backend, enables it on every online CPU and prints the
 * "keel: virtualization: ..." line. Never fails the boot: without usable
 * hardware support Keel keeps running without guests. */
void virt_init(void);

#endif
