/* Loads a CPU's GDT, TSS (with interrupt stacks) and IDT. */
#ifndef KEEL_TRAP_SETUP_H
#define KEEL_TRAP_SETUP_H

#include "percpu.h"

/* The boot CPU, with static stacks: the first thing after GS, so even the
 * earliest fault is reported instead of triple-faulting. */
void trap_setup_boot_cpu(void);

/* An AP, with interrupt stacks from the heap; returns -1 if none is left. */
int trap_setup_cpu(struct percpu *p);

#endif
