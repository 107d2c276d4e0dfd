/* Guest x87/SSE state: kept in the registers while its vCPU runs on a CPU,
 * saved (FXSAVE) only when another vCPU needs them there. The core itself
 * never touches these registers (-mgeneral-regs-only). */
#ifndef KEEL_GUEST_FPU_H
#define KEEL_GUEST_FPU_H

#include "vcpu.h"

/* Makes v's state the one in this CPU's registers. Interrupts off. */
void guest_fpu_load(struct vcpu *v);

/* Forgets v as the owner of this CPU's registers (v is being destroyed). */
void guest_fpu_forget(const struct vcpu *v);

/* Lets this CPU use FXSAVE/FXRSTOR (CR4.OSFXSR, OSXMMEXCPT; CR0.MP, !EM). */
void guest_fpu_enable_on_this_cpu(void);

#endif
