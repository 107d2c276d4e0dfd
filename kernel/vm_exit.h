/* Exit handlers of the generic run loop (kernel/vm_run.c), one file each. */
#ifndef KEEL_VM_EXIT_H
#define KEEL_VM_EXIT_H

#include <stdbool.h>

#include "guest_walk.h"
#include "vm.h"

/* Each returns true when the vCPU must stop (stop filled in). */
bool vm_exit_io(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                struct vcpu_stop *stop);
bool vm_exit_msr(struct vcpu *v, const struct vm_exit *e);

/* The MSRs the core emulates for guests (vm_msr.c): false for any other. */
bool vm_msr_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool vm_msr_write(struct vcpu *v, uint32_t index, uint64_t value);
bool vm_exit_slat_fault(struct vcpu *v, const struct vm_device_ops *dev, const struct vm_exit *e,
                        struct vcpu_stop *stop);

/* Sets e->insn_len for an instruction exit whose backend left it 0, from the
 * instruction's bytes. Returns false when they cannot be read or are not the
 * instruction the exit names (the vCPU then stops). */
bool vm_fill_insn_length(struct vcpu *v, struct vm_exit *e);

/* The register with x86 encoding number n (0 rAX, 1 rCX, ... 15 R15). */
uint64_t *vm_mmio_register(struct keel_regs *r, unsigned n);

/* The instruction at the guest's RIP, fetched through its page tables, with
 * the register state it was read with. */
struct guest_insn {
    struct keel_sregs sregs;
    struct keel_regs regs;
    bool long_mode; /* 64-bit code */
    size_t length;  /* bytes fetched (fewer than 15 where the next page does not translate) */
    uint8_t bytes[15];
};
void vm_fetch_instruction(struct vcpu *v, struct guest_insn *out);

/* The guest's paging state, for walks of its page tables. */
void vm_guest_paging(struct vcpu *v, const struct keel_sregs *s, struct guest_paging_state *st);

/* guest_phys_read_fn over v's RAM (ctx is the struct vm). */
bool vm_read_guest_phys(void *ctx, uint64_t gpa, void *buf, size_t len);

/* Injects #PF for linear with error_code (sets the guest's CR2). */
void vm_inject_page_fault(struct vcpu *v, uint64_t linear, uint32_t error_code);

#endif
