/* Physical frame allocator of the core: a bump pool while the core builds its
 * own page tables, then the buddy allocator over all usable RAM. */
#ifndef KEEL_PMM_H
#define KEEL_PMM_H

#include <stdint.h>

#include "memmap.h"

/* Pool of pool_pages frames at pool_base (already reserved in the map). */
void pmm_init_early(uint64_t pool_base, uint64_t pool_pages);

/* Hands every usable range of the (normalized, reserved) map to the buddy
 * allocator; metadata is placed in usable memory and reserved in m. Needs the
 * direct map of all RAM. Returns 0, or -1 when no room for the metadata. */
int pmm_init_buddy(struct memmap *m);

/* One zeroed 4 KiB frame, or 0 when memory is exhausted. */
uint64_t pmm_alloc_frame(void);

/* 2^order zeroed contiguous frames aligned to their size, or 0. */
uint64_t pmm_alloc_pages(unsigned order);
void pmm_free_pages(uint64_t phys, unsigned order);

uint64_t pmm_free_bytes(void);

#endif
