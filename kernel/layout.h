/*
 * The core's virtual address layout (DESIGN.md section 6):
 *   0xffff800000000000  direct map of physical memory (PML4 slot 256 onward)
 *   0xffffffff80000000  the core image, linked here, loaded at 1 MiB physical
 * The lower half (slots 0-255) belongs to partitions.
 */
#ifndef KEEL_LAYOUT_H
#define KEEL_LAYOUT_H

#define KERNEL_VMA_BASE  0xffffffff80000000
#define DIRECT_MAP_BASE  0xffff800000000000
#define DIRECT_MAP_LIMIT 0x0000400000000000 /* 64 TiB of physical space */
#define KERNEL_LOAD_PHYS 0x100000

#define PAGE_SIZE  4096ul
#define PAGE_SHIFT 12

#ifndef __ASSEMBLER__
#include <stdint.h>

static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(phys + DIRECT_MAP_BASE);
}

/* Valid for direct-map and core-image addresses. */
static inline uint64_t virt_to_phys(const void *virt)
{
    uint64_t v = (uint64_t)virt;
    return v >= KERNEL_VMA_BASE ? v - KERNEL_VMA_BASE : v - DIRECT_MAP_BASE;
}
#endif

#endif
