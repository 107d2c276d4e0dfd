/* Per-CPU descriptor tables and interrupt stacks. */
#include "trap_setup.h"
#include "heap.h"

static char boot_ist_stacks[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));

void trap_setup_boot_cpu(void)
{
    struct percpu *p = this_cpu();
    uint64_t tops[IST_COUNT];
    for (int i = 0; i < IST_COUNT; i++)
        tops[i] = (uint64_t)(boot_ist_stacks[i] + IST_STACK_SIZE);
    gdt_load_cpu(p, tops);
    idt_load_cpu(&p->idt);
}

int trap_setup_cpu(struct percpu *p)
{
    uint64_t tops[IST_COUNT];
    for (int i = 0; i < IST_COUNT; i++) {
        char *stack = kmalloc(IST_STACK_SIZE);
        if (!stack)
            return -1;
        tops[i] = (uint64_t)(stack + IST_STACK_SIZE);
    }
    gdt_load_cpu(p, tops);
    idt_load_cpu(&p->idt);
    return 0;
}
