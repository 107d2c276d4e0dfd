/*
 * The VM part of Keel's hypercall ABI, shaped after Linux's /dev/kvm
 * (include/uapi/linux/kvm.h): struct keel_run has the layout of struct
 * kvm_run for the fields Keel uses, with the same exit-reason numbers;
 * keel_regs and keel_sregs are kvm_regs and kvm_sregs (without the
 * interrupt bitmap). A VMM that knows KVM knows this.
 */
#ifndef KEEL_ABI_VM_H
#define KEEL_ABI_VM_H

#include <stdint.h>

/* Exit reasons (KVM_EXIT_*). */
#define KEEL_EXIT_UNKNOWN         0
#define KEEL_EXIT_EXCEPTION       1
#define KEEL_EXIT_IO              2
#define KEEL_EXIT_HLT             5
#define KEEL_EXIT_MMIO            6
#define KEEL_EXIT_IRQ_WINDOW_OPEN 7
#define KEEL_EXIT_SHUTDOWN        8
#define KEEL_EXIT_FAIL_ENTRY      9
#define KEEL_EXIT_INTR            10
#define KEEL_EXIT_INTERNAL_ERROR  17
#define KEEL_EXIT_SYSTEM_EVENT    24
#define KEEL_EXIT_IOAPIC_EOI      26 /* split irqchip: the guest EOIed a level-triggered vector */

#define KEEL_EXIT_IO_IN  0
#define KEEL_EXIT_IO_OUT 1

/* internal.suberror for KEEL_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_*). */
#define KEEL_INTERNAL_ERROR_EMULATION 1 /* an MMIO instruction the core does not decode */

/* The run page: one 4 KiB page per vCPU, mapped into the VMM partition by
 * KEEL_HC_CREATE_VCPU. Offsets as in struct kvm_run. */
struct keel_run {
    uint8_t request_interrupt_window; /* 0 */
    uint8_t immediate_exit;           /* 1 */
    uint8_t padding1[6];
    uint32_t exit_reason;                  /* 8 */
    uint8_t ready_for_interrupt_injection; /* 12 */
    uint8_t if_flag;                       /* 13 */
    uint16_t flags;                        /* 14 */
    uint64_t cr8;                          /* 16 */
    uint64_t apic_base;                    /* 24 */
    union {                                /* 32 */
        struct {
            uint64_t hardware_exit_reason;
        } hw;
        struct {
            uint64_t hardware_entry_failure_reason;
            uint32_t cpu;
        } fail_entry;
        struct {
            uint32_t exception;
            uint32_t error_code;
        } ex;
        struct {
            uint8_t direction; /* KEEL_EXIT_IO_IN or _OUT */
            uint8_t size;      /* 1, 2 or 4 */
            uint16_t port;
            uint32_t count;       /* units (1: Keel carries string I/O out unit by unit) */
            uint64_t data_offset; /* from the start of this page */
        } io;
        struct {
            uint64_t phys_addr;
            uint8_t data[8];
            uint32_t len;
            uint8_t is_write;
        } mmio;
        struct {
            uint32_t suberror;
            uint32_t ndata;
            uint64_t data[16]; /* EMULATION: [0] why (core's stop reason), [1] the
                                  GPA, [2] RIP, [3] length and [4..5] the bytes of
                                  an MMIO instruction the core does not decode */
        } internal;
        struct {
            uint32_t type;
            uint32_t ndata;
            uint64_t data[16];
        } system_event;
        struct {
            uint8_t vector;
        } eoi; /* KEEL_EXIT_IOAPIC_EOI */
        char padding[256];
    };
    uint64_t kvm_valid_regs; /* 288: unused by Keel */
    uint64_t kvm_dirty_regs; /* 296: unused by Keel */
    /* 304, Keel's own (kvm_run's sync-register area, which Keel has not):
     * when non-zero, KEEL_HC_RUN returns with KEEL_EXIT_INTR once the TSC
     * reaches this value, also while the guest waits in HLT. A VMM puts its
     * next device timer event here. */
    uint64_t exit_deadline_tsc;
};

/* KEEL_HC_IRQ_LINE (struct kvm_irq_level): the level of a local interrupt
 * pin of every vCPU: irq 0 is LINT0, 1 is LINT1; the pin's LVT entry says
 * what it delivers (a fixed vector, edge or level; NMI; INIT). */
#define KEEL_IRQ_LINT0 0
#define KEEL_IRQ_LINT1 1
struct keel_irq_level {
    uint32_t irq;
    uint32_t level;
};

/* KEEL_HC_SIGNAL_MSI (struct kvm_msi): a message-signalled interrupt in the
 * format of SDM Vol. 3A 11.11 (address 0xfeexxxxx with the destination,
 * data with vector, delivery mode and trigger), routed by the core to the
 * virtual local APICs it names. The VMM's IOAPIC sends its interrupts so. */
struct keel_msi {
    uint32_t address_lo;
    uint32_t address_hi;
    uint32_t data;
    uint32_t flags; /* 0 */
    uint8_t pad[16];
};

/* KEEL_HC_SET_USER_MEMORY_REGION (struct kvm_userspace_memory_region). */
struct keel_memory_region {
    uint32_t slot;
    uint32_t flags;           /* 0 */
    uint64_t guest_phys_addr; /* 4 KiB-aligned */
    uint64_t memory_size;     /* 4 KiB multiple; 0 deletes the slot */
    uint64_t userspace_addr;  /* the VMM's own memory (from KEEL_HC_MEM_MAP), 4 KiB-aligned */
};

/* struct kvm_regs. */
struct keel_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
};

/* struct kvm_segment / kvm_dtable / kvm_sregs. */
struct keel_segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint8_t type;
    uint8_t present, dpl, db, s, l, g, avl;
    uint8_t unusable;
    uint8_t padding;
};

struct keel_dtable {
    uint64_t base;
    uint16_t limit;
    uint16_t padding[3];
};

struct keel_sregs {
    struct keel_segment cs, ds, es, fs, gs, ss;
    struct keel_segment tr, ldt;
    struct keel_dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t apic_base;
};

/* KEEL_HC_GET/SET_MSRS (struct kvm_msrs with its entries inline, at most
 * KEEL_MSRS_MAX): the result is the number of entries done; the first entry
 * the core does not handle stops the list. */
#define KEEL_MSRS_MAX 32
struct keel_msr_entry {
    uint32_t index;
    uint32_t reserved;
    uint64_t data;
};
struct keel_msrs {
    uint32_t nmsrs;
    uint32_t pad;
    struct keel_msr_entry entries[KEEL_MSRS_MAX];
};

/* KEEL_HC_GET/SET_FPU (struct kvm_fpu): the x87/SSE state. */
struct keel_fpu {
    uint8_t fpr[8][16];
    uint16_t fcw, fsw;
    uint8_t ftwx, pad1;
    uint16_t last_opcode;
    uint64_t last_ip, last_dp;
    uint8_t xmm[16][16];
    uint32_t mxcsr, pad2;
};

/* KEEL_HC_SET_CPUID (struct kvm_cpuid2 with its entries inline): what CPUID
 * returns for these leaves instead of Keel's policy. Keel still hides VMX,
 * SVM and the XSAVE components it does not switch. */
#define KEEL_CPUID_MAX                    64
#define KEEL_CPUID_FLAG_SIGNIFICANT_INDEX 1u
struct keel_cpuid_entry {
    uint32_t function, index, flags;
    uint32_t eax, ebx, ecx, edx;
    uint32_t padding[3];
};
struct keel_cpuid {
    uint32_t nent;
    uint32_t padding;
    struct keel_cpuid_entry entries[KEEL_CPUID_MAX];
};

/* KEEL_HC_GET_STATS: kvmstat's per-vCPU columns. */
struct keel_vcpu_stats {
    uint64_t exits, hlt, irq, irq_window, io, mmio, cpuid, msr, npf;
    uint64_t injected_interrupts, injected_exceptions, emulated_instructions;
    uint64_t exits_to_vmm;
    uint64_t halts_blocked;    /* HLTs after which the vCPU's thread blocked */
    uint64_t halt_wakeups;     /* ... and was woken */
    uint64_t ipis_sent;        /* ICR / SELF_IPI writes */
    uint64_t ipis_received;    /* interrupts from other vCPUs' local APICs */
    uint64_t timer_interrupts; /* local APIC timer interrupts raised */
    uint64_t injected_nmis;
    uint64_t msis; /* interrupts from KEEL_HC_SIGNAL_MSI accepted */
};

_Static_assert(__builtin_offsetof(struct keel_run, exit_reason) == 8, "kvm_run layout");
_Static_assert(__builtin_offsetof(struct keel_run, io) == 32, "kvm_run layout");
_Static_assert(__builtin_offsetof(struct keel_run, exit_deadline_tsc) == 304, "kvm_run layout");
_Static_assert(sizeof(struct keel_msi) == 32, "kvm_msi layout");
_Static_assert(sizeof(struct keel_regs) == 144, "kvm_regs layout");
_Static_assert(sizeof(struct keel_fpu) == 416, "kvm_fpu layout");
_Static_assert(sizeof(struct keel_cpuid_entry) == 40, "kvm_cpuid_entry2 layout");

#endif
