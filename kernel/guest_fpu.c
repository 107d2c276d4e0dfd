/* Lazy switching of guest x87/SSE state (SDM Vol. 1 10.5, FXSAVE image). */
#include "guest_fpu.h"
#include "cpu.h"
#include "percpu.h"

#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)

static struct vcpu *owner[MAX_CPUS];

void guest_fpu_enable_on_this_cpu(void)
{
    write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

void guest_fpu_load(struct vcpu *v)
{
    unsigned cpu = this_cpu()->index;
    struct vcpu *current = owner[cpu];
    if (current == v)
        return;
    if (current)
        __asm__ volatile("fxsave64 (%0)" : : "r"(current->fpu_state) : "memory");
    __asm__ volatile("fxrstor64 (%0)" : : "r"(v->fpu_state) : "memory");
    owner[cpu] = v;
}

void guest_fpu_forget(const struct vcpu *v)
{
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (owner[i] == v)
            owner[i] = 0;
    }
}
