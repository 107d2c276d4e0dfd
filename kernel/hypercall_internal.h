/* Shared between the hypercall files of the core. */
#ifndef KEEL_HYPERCALL_INTERNAL_H
#define KEEL_HYPERCALL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "partition.h"
#include "traps.h"

/* The VM calls (KEEL_HC_CREATE_VM .. GET_STATS). */
int64_t hypercall_vm(struct partition *p, const struct trap_frame *f);

/* Partition management (threads, partitions). */
int64_t hypercall_partition(struct partition *p, const struct trap_frame *f);

/* A free range of size bytes in p's mapping area (nothing mapped yet), or 0. */
uint64_t hc_reserve_user_range(struct partition *p, uint64_t size);

/* True when [va, va+size) of p backs guest RAM of one of its VMs. */
bool hypercall_vm_memory_in_use(struct partition *p, uint64_t va, uint64_t size);

#endif
