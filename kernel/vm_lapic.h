/* The vCPUs' local APICs in the run loop and the VM's interrupt routing
 * (vm_lapic.c). */
#ifndef KEEL_VM_LAPIC_H
#define KEEL_VM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

/* Power-on state of v's LAPIC and its timers (vcpu_create). */
void vm_lapic_init(struct vcpu *v);
/* Disarms v's timers (vcpu_destroy): no callback runs once it returns. */
void vm_lapic_destroy(struct vcpu *v);

/* Makes v reachable by IPIs and MSIs. Returns 0, or -1 when the VM is full. */
int vm_add_vcpu(struct vm *vm, struct vcpu *v);
void vm_remove_vcpu(struct vm *vm, const struct vcpu *v);

/* Wakes v if it waits in HLT, or makes it leave guest mode on its CPU. */
void vcpu_kick(struct vcpu *v);
/* The thread running v (NULL when none), for vcpu_kick. */
void vcpu_set_thread(struct vcpu *v, struct thread *t);

/* KEEL_HC_SIGNAL_MSI: true when a LAPIC took it. */
bool vm_signal_msi(struct vm *vm, uint64_t address, uint32_t data);
/* KEEL_HC_IRQ_LINE: LINT0 (pin 0) or LINT1 (pin 1) of every vCPU. */
void vm_irq_line(struct vm *vm, unsigned pin, bool level);

/* The VMM's exit deadline (TSC, 0: none): the run ends when it passes. */
void vcpu_set_exit_deadline(struct vcpu *v, uint64_t tsc);

/* A level-triggered vector the guest EOIed, to report to the VMM. */
bool vcpu_take_eoi_exit(struct vcpu *v, uint8_t *vector);

#endif
