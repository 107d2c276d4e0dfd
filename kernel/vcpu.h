/*
 * Generic VM and vCPU objects of the core (DESIGN.md sections 1 and 4). The
 * register and segment structures follow Linux's struct kvm_regs and
 * kvm_sregs; exits are decoded by the backend into a struct vm_exit that
 * generic code handles without knowing a VMCS field or a VMCB offset.
 */
#ifndef KEEL_VCPU_H
#define KEEL_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include <keel/vm.h>

#include "apic/vlapic.h"
#include "ept/slat.h"
#include "mmio_decode.h"
#include "sched/ktimer.h"
#include "spinlock.h"

#define VM_MAX_SLOTS 8
#define VM_MAX_VCPUS 64

/* General-purpose registers as saved by the backends' entry/exit assembly;
 * the order is fixed (the assembly uses offsetof-derived constants, see
 * VCPU_GPRS_* in vcpu_asm.inc). RSP, RIP and RFLAGS live in the VMCS/VMCB. */
struct guest_gprs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* Register state: include/keel/vm.h's keel_regs and keel_sregs (the
 * layouts of KVM's kvm_regs and kvm_sregs), shared with ring 3. */

enum vm_exit_reason {
    VM_EXIT_NONE = 0,
    VM_EXIT_CPUID,
    VM_EXIT_HLT,
    VM_EXIT_IO,
    VM_EXIT_MSR_READ,
    VM_EXIT_MSR_WRITE,
    VM_EXIT_SLAT_FAULT,         /* EPT violation / nested page fault */
    VM_EXIT_EXTERNAL_INTERRUPT, /* a host interrupt arrived (already handled) */
    VM_EXIT_INTERRUPT_WINDOW,   /* the guest can take an interrupt now */
    VM_EXIT_SHUTDOWN,           /* triple fault */
    VM_EXIT_EXCEPTION,          /* an intercepted guest exception */
    VM_EXIT_HYPERCALL,          /* VMCALL / VMMCALL */
    VM_EXIT_XSETBV,
    VM_EXIT_INVALID_OPCODE, /* an instruction guests may not use: inject #UD */
    VM_EXIT_INVALID_STATE,  /* VM entry failed: guest state refused */
    VM_EXIT_UNHANDLED,      /* anything else: vendor_code tells */
};

struct vm_exit {
    enum vm_exit_reason reason;
    uint64_t vendor_code; /* raw VMX exit reason / SVM exit code, for reports */
    uint64_t rip;         /* guest RIP of the exiting instruction */
    /* Length of the exiting instruction when the backend knows it (VMX
     * always; SVM with NRIP save, or from IOIO's next RIP), else 0. */
    uint32_t insn_len;
    union {
        struct {
            uint16_t port;
            uint8_t size; /* 1, 2 or 4 */
            bool in;
            bool string;
            bool rep;
        } io;
        struct {
            uint64_t gpa;
            bool read, write, fetch;
            bool translated; /* the access had a valid guest-linear address */
        } slat;
        struct {
            uint32_t index;
            uint64_t value; /* for writes: EDX:EAX */
        } msr;
        struct {
            uint8_t vector;
            bool has_error;
            uint32_t error_code;
        } exception;
    };
};

enum vcpu_event_type { EVENT_EXTERNAL = 0, EVENT_NMI = 2, EVENT_EXCEPTION = 3 };

struct vcpu_event {
    enum vcpu_event_type type;
    uint8_t vector;
    bool has_error;
    uint32_t error_code;
};

/* kvmstat's columns (issue 3, point 6). */
struct vcpu_stats {
    uint64_t exits, hlt, irq, irq_window, io, mmio, cpuid, msr, slat_fault;
    uint64_t outside_memory; /* accesses to guest-physical addresses nothing backs */
    uint64_t ram_mapped;     /* faults that mapped guest RAM on first touch */
    uint64_t exits_to_vmm;   /* KEEL_HC_RUN returns to the ring-3 VMM */
    uint64_t injected_interrupts, injected_exceptions, emulated_instructions;
    uint64_t halts_blocked, halt_wakeups, injected_nmis, msis;
};

/* An exit handed to the VMM in ring 3, completed by its next KEEL_RUN. */
#define USER_STRING_BYTES 2048 /* string I/O units per exit to the VMM, in bytes */

struct vcpu_user_exit {
    enum { USER_EXIT_NONE, USER_EXIT_PIO, USER_EXIT_MMIO, USER_EXIT_STRING } kind;
    uint16_t port;
    uint8_t size;
    bool in;
    bool rep;
    uint32_t insn_len;
    uint32_t count;                         /* string I/O: units in string_data */
    uint8_t string_data[USER_STRING_BYTES]; /* string OUT data for the VMM */
    uint64_t gpa;
    struct mmio_insn insn; /* the decoded MMIO instruction */
    uint64_t value;        /* OUT data or MMIO store data */
};

struct memslot {
    uint64_t gpa, size;
    uint64_t hpa;       /* host-physical start of a contiguous backing, or 0 */
    uint64_t user_root; /* else: backed by the VMM partition's pages in these tables */
    uint64_t user_va;   /* ... at this address (KEEL_HC_SET_USER_MEMORY_REGION) */
    bool in_use;
    bool owns_memory; /* false for an alias or the VMM's memory */
};

struct vcpu;

struct vm {
    struct slat slat;
    struct memslot slots[VM_MAX_SLOTS];
    /* The vCPUs, densely (routing walks apics[0 .. vcpu_count-1]); added
     * under vcpus_lock, removed only when the VM goes. */
    struct spinlock vcpus_lock;
    unsigned vcpu_count;
    struct vcpu *vcpus[VM_MAX_VCPUS];
    struct vlapic *apics[VM_MAX_VCPUS];
    uint32_t asid; /* VPID or ASID, 0 when the CPU has none */
    unsigned id;
    char name[32];
};

/* Multiprocessor state (SDM Vol. 3A 9.4): an AP waits for a start-up IPI. */
enum vcpu_mp_state { VCPU_MP_RUNNABLE, VCPU_MP_WAIT_SIPI };

struct thread;

struct vcpu {
    struct guest_gprs gprs; /* first: the entry/exit assembly addresses it at offset 0 */
    struct vm *vm;
    unsigned id;
    void *backend;      /* the VMCS / VMCB and its companions, backend-private */
    void *fpu_state;    /* XSAVE (or FXSAVE) area, 64-byte aligned (guest_fpu.c) */
    uint64_t xcr0;      /* the guest's XCR0 */
    uint64_t guest_pat; /* IA32_PAT as the guest last wrote it */
    bool halted;
    bool stop_requested;
    uint64_t stop_code;
    uint64_t pending_irqs[4]; /* ExtINTs from the VMM's PIC awaiting delivery, a bit per vector */
    struct vcpu_user_exit user_exit;
    struct keel_cpuid_entry *cpuid_entries; /* the VMM's CPUID (SET_CPUID), or NULL */
    unsigned cpuid_count;
    bool has_pending_event;
    struct vcpu_event pending_event;
    struct vcpu_stats stats;

    /* The local APIC (kernel/apic/vlapic.c) and what drives it (vm_lapic.c). */
    struct vlapic lapic;
    struct vlapic_env lapic_env;
    struct ktimer lapic_timer;   /* fires at the LAPIC timer's deadline */
    uint64_t lapic_deadline_tsc; /* UINT64_MAX: not armed */
    struct ktimer exit_timer;    /* fires at the VMM's exit deadline */
    uint64_t exit_deadline_tsc;  /* 0: none */
    struct thread *thread;       /* the thread running it (in KEEL_HC_RUN), or NULL */
    struct spinlock thread_lock; /* guards thread for vcpu_kick (vm_lapic.c) */
    enum vcpu_mp_state mp_state;
    uint64_t eoi_exits[4]; /* level-triggered vectors EOIed, for the VMM's IOAPIC */
    bool eoi_exit_pending; /* eoi_exits has a bit set */
    bool entered_this_run; /* the guest ran in this KEEL_HC_RUN (vm_run.c) */
    bool window_wanted;    /* the VMM's request_interrupt_window: exit once an ExtINT can go in */
};

#endif
