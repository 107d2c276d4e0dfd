/* The hypercalls partitions make (include/keel/hypercall.h is the ABI;
 * docs/hypercalls.md describes each). */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include <stdint.h>

#include "partition.h"
#include "traps.h"

/* Runs the hypercall in frame for partition p; returns the result for RAX
 * (>= 0, or a negative KEEL_E* code). Every argument is checked. */
int64_t hypercall(struct partition *p, struct trap_frame *frame);

#endif
