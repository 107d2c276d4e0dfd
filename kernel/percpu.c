/* Per-CPU blocks: the boot CPU's is static, the others come from the heap. */
#include "percpu.h"
#include "cpu.h"

struct percpu *cpu_table[MAX_CPUS];

static struct percpu boot_cpu_block __attribute__((aligned(4096)));
extern char boot_stack_top[];

void percpu_install(struct percpu *p)
{
    p->self = p;
    wrmsr(MSR_GS_BASE, (uint64_t)p);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void percpu_init_boot_cpu(void)
{
    struct percpu *p = &boot_cpu_block;
    p->index = 0;
    p->stack_top = (uint64_t)boot_stack_top;
    percpu_install(p);
    cpu_table[0] = p;
}
