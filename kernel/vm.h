/*
 * Generic VMs and vCPUs (DESIGN.md section 4): guest memory slots and the
 * second-level table, vCPU objects over the chosen backend, and the run
 * loop that handles in the core what is hot and small (CPUID, HLT, MSRs,
 * the local APIC, event injection, nested page faults) and hands port I/O
 * and MMIO to a device handler: the in-core self-test device, or, with no
 * handler, the ring-3 VMM through KEEL_HC_RUN's exits.
 */
#ifndef KEEL_VM_H
#define KEEL_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

enum vcpu_stop_reason {
    VCPU_STOP_DEVICE,         /* the device handler asked (e.g. the guest reported its result) */
    VCPU_STOP_SHUTDOWN,       /* triple fault */
    VCPU_STOP_INVALID_STATE,  /* the hardware refused the guest state */
    VCPU_STOP_HALTED,         /* HLT with interrupts off and nothing to deliver, ever */
    VCPU_STOP_UNHANDLED,      /* an exit the core cannot handle */
    VCPU_STOP_MMIO_UNDECODED, /* MMIO by an instruction outside the decoded forms */
    VCPU_STOP_USER_IO,        /* port I/O or MMIO for the VMM: see v->user_exit */
    VCPU_STOP_ABORTED,        /* should_stop said so (the VMM is gone) */
    VCPU_STOP_DEADLINE,       /* the VMM's exit deadline passed */
    VCPU_STOP_EOI,            /* the guest EOIed a level-triggered vector (code) */
    VCPU_STOP_IRQ_WINDOW,     /* window_wanted, and an ExtINT could be injected now */
};

struct vcpu_stop {
    enum vcpu_stop_reason reason;
    uint64_t code;    /* device status, or the vendor exit code */
    uint64_t rip;     /* where the guest stopped */
    uint8_t insn[15]; /* instruction bytes for VCPU_STOP_MMIO_UNDECODED */
    uint8_t insn_length;
};

struct vm_device_ops {
    /* Port I/O of size 1/2/4. For IN, set *value. Return false for an
     * unclaimed port (reads give all ones, writes are ignored). NULL: every
     * port access goes to the VMM (VCPU_STOP_USER_IO). */
    bool (*pio)(void *ctx, struct vcpu *v, uint16_t port, uint8_t size, bool in, uint32_t *value);
    /* MMIO of size 1/2/4/8 at a GPA that is not RAM. Return false when no
     * device is there (the access is then "outside guest memory"). NULL:
     * every such access goes to the VMM (VCPU_STOP_USER_IO). */
    bool (*mmio)(void *ctx, struct vcpu *v, uint64_t gpa, uint8_t size, bool write,
                 uint64_t *value);
    /* Polled between guest entries; true ends the run (VCPU_STOP_ABORTED). */
    bool (*should_stop)(void *ctx);
    void *ctx;
};

/* Creates an empty VM. NULL without virtualization or memory. */
struct vm *vm_create(const char *name);
void vm_destroy(struct vm *vm);

/* Backs [gpa, gpa+size) with fresh zeroed host memory (contiguous; size a
 * power of two multiple of 4 KiB up to 1 GiB). Returns 0 or a negative code. */
int vm_add_ram(struct vm *vm, uint64_t gpa, uint64_t size);

/* Makes [gpa, gpa+size) guest RAM backed by the VMM partition's own pages at
 * user_va in its tables user_root (checked by the caller: owned, writable).
 * Returns 0, or -1 for a used slot number or an overlap with another slot. */
int vm_add_user_region(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                       uint64_t user_root, uint64_t user_va);

/* True when the VMM memory [va, va+size) of user_root backs guest RAM. */
bool vm_uses_user_memory(const struct vm *vm, uint64_t user_root, uint64_t va, uint64_t size);

/* Maps [alias_gpa, +size) to the host memory behind [source_gpa, +size). */
int vm_add_alias(struct vm *vm, uint64_t alias_gpa, uint64_t source_gpa, uint64_t size);

/* Guest RAM is mapped into the second-level table on first touch, with the
 * largest page that fits the slot and its backing. */
enum vm_fault_result {
    VM_FAULT_MAPPED,     /* RAM not yet mapped: it is now, re-enter the guest */
    VM_FAULT_NOT_RAM,    /* MMIO or outside guest memory */
    VM_FAULT_PERMISSION, /* RAM already mapped: an access its rights forbid */
    VM_FAULT_NO_MEMORY,  /* no frame for the tables */
};
int vm_map_on_fault(struct vm *vm, uint64_t gpa);

/* Host address of guest RAM [gpa, gpa+len), or NULL if not all RAM. */
void *vm_guest_ram(struct vm *vm, uint64_t gpa, uint64_t len);

struct vcpu *vcpu_create(struct vm *vm, unsigned id);
void vcpu_destroy(struct vcpu *v);

/* Runs v on the calling CPU until it stops; fills stop. */
void vcpu_run_loop(struct vcpu *v, const struct vm_device_ops *dev, struct vcpu_stop *stop);

/* Completes the exit v->user_exit with value (the IN or MMIO load data; for
 * a string IN, the units at data) and steps past the instruction; nothing
 * when there is none pending. */
void vcpu_complete_user_exit(struct vcpu *v, uint64_t value, const uint8_t *data);

/* Called by device handlers during the run loop. */
void vcpu_request_stop(struct vcpu *v, uint64_t code);
void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error_code);
/* An ExtINT (the PIC's interrupt) for v: taken when its LAPIC accepts ExtINT. */
void vcpu_raise_interrupt(struct vcpu *v, uint8_t vector);

/* KVM's ready_for_interrupt_injection: the guest can take an ExtINT now
 * (interrupts on, no shadow, nothing else being injected, its LAPIC takes
 * ExtINT) and none is queued. */
bool vcpu_ready_for_extint(struct vcpu *v);
/* The same without the guest's interrupt flag (no backend access). */
bool vcpu_extint_slot_free(const struct vcpu *v);

/* vcpu_reset.c: the register state after INIT (SDM Vol. 3A 10.1.1, table
 * 10-1), and an AP's start at a start-up IPI's vector. */
void vcpu_reset_for_init(struct vcpu *v);
void vcpu_start_at_sipi(struct vcpu *v, uint8_t vector);

#endif
