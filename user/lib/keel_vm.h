/*
 * Ring-3 wrappers of the /dev/kvm-shaped hypercalls (include/keel/vm.h,
 * include/keel/hypercall.h): one typed function per call, named after the
 * KVM ioctl it mirrors. Results follow the ABI: >= 0 on success, a negative
 * KEEL_E* code on failure (keel_strerror names it).
 */
#ifndef KEEL_USER_KEEL_VM_H
#define KEEL_USER_KEEL_VM_H

#include "keel.h"
#include "keel/vm.h"

/* KVM_CREATE_VM -> a VM handle. */
long keel_create_vm(void);
/* KVM_SET_USER_MEMORY_REGION: the caller's own memory becomes guest RAM. */
long keel_set_user_memory_region(long vm, const struct keel_memory_region *region);
/* KVM_CREATE_VCPU + mmap -> a vCPU handle; *run gets its run page. */
long keel_create_vcpu(long vm, unsigned id, struct keel_run **run);
/* KVM_RUN: 0 once an exit is described in the run page. */
long keel_run(long vcpu);
long keel_get_regs(long vcpu, struct keel_regs *regs);
long keel_set_regs(long vcpu, const struct keel_regs *regs);
long keel_get_sregs(long vcpu, struct keel_sregs *sregs);
long keel_set_sregs(long vcpu, const struct keel_sregs *sregs);
/* KVM_INTERRUPT (split irqchip): an ExtINT from the VMM's PIC with this
 * vector (32..255), taken when the vCPU's local APIC accepts ExtINT. */
long keel_interrupt(long vcpu, unsigned vector);
long keel_get_stats(long vcpu, struct keel_vcpu_stats *stats);
/* KVM_IRQ_LINE: the level of LINT0 (irq 0) or LINT1 (irq 1) of every vCPU. */
long keel_irq_line(long vm, unsigned irq, unsigned level);
/* KVM_SIGNAL_MSI: 1 when a local APIC took it, 0 when none did. */
long keel_signal_msi(long vm, uint64_t address, uint32_t data);

#endif
