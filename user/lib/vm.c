/* Typed wrappers of the VM hypercalls (keel_vm.h). */
#include "keel_vm.h"

#define VM_HC1(nr, a)       keel_hypercall6((nr), (long)(a), 0, 0, 0, 0, 0)
#define VM_HC2(nr, a, b)    keel_hypercall6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define VM_HC3(nr, a, b, c) keel_hypercall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

long keel_create_vm(void)
{
    return keel_hypercall6(KEEL_HC_CREATE_VM, 0, 0, 0, 0, 0, 0);
}

long keel_set_user_memory_region(long vm, const struct keel_memory_region *region)
{
    return VM_HC2(KEEL_HC_SET_USER_MEMORY_REGION, vm, region);
}

long keel_create_vcpu(long vm, unsigned id, struct keel_run **run)
{
    *run = NULL;
    return VM_HC3(KEEL_HC_CREATE_VCPU, vm, id, run);
}

long keel_run(long vcpu)
{
    return VM_HC1(KEEL_HC_RUN, vcpu);
}

long keel_get_regs(long vcpu, struct keel_regs *regs)
{
    return VM_HC2(KEEL_HC_GET_REGS, vcpu, regs);
}

long keel_set_regs(long vcpu, const struct keel_regs *regs)
{
    return VM_HC2(KEEL_HC_SET_REGS, vcpu, regs);
}

long keel_get_sregs(long vcpu, struct keel_sregs *sregs)
{
    return VM_HC2(KEEL_HC_GET_SREGS, vcpu, sregs);
}

long keel_set_sregs(long vcpu, const struct keel_sregs *sregs)
{
    return VM_HC2(KEEL_HC_SET_SREGS, vcpu, sregs);
}

long keel_interrupt(long vcpu, unsigned vector)
{
    return VM_HC2(KEEL_HC_INTERRUPT, vcpu, vector);
}

long keel_get_stats(long vcpu, struct keel_vcpu_stats *stats)
{
    return VM_HC2(KEEL_HC_GET_STATS, vcpu, stats);
}

long keel_irq_line(long vm, unsigned irq, unsigned level)
{
    struct keel_irq_level l = {.irq = irq, .level = level};
    return VM_HC2(KEEL_HC_IRQ_LINE, vm, &l);
}

long keel_signal_msi(long vm, uint64_t address, uint32_t data)
{
    struct keel_msi m = {
        .address_lo = (uint32_t)address, .address_hi = (uint32_t)(address >> 32), .data = data};
    return VM_HC2(KEEL_HC_SIGNAL_MSI, vm, &m);
}
