/* Kernel stacks with an unmapped guard page below each, in their own region
 * of the core's half, so an overflow faults (and the #DF handler, on its own
 * IST stack, reports it) instead of silently overwriting memory. */
#ifndef KEEL_KSTACK_H
#define KEEL_KSTACK_H

#include <stdint.h>

#define KSTACK_REGION_BASE 0xffffff0000000000ull /* PML4 slot 510 */

/* Creates the region's top-level entry; before any address space copies the
 * core's half. Also turns the lowest page of the boot stack into a guard. */
void kstack_init(void);

/* A KERNEL_STACK_SIZE stack; returns its top, or 0 when memory is short. */
uint64_t kstack_alloc(void);

/* Gives a stack back (no thread may run on it any more). */
void kstack_free(uint64_t top);

#endif
