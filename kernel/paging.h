/*
 * Host page tables (4-level, SDM Vol. 3A 4.5): map, unmap, protect and look
 * up virtual ranges with 4 KiB, 2 MiB or 1 GiB pages. The largest page that
 * alignment, the range and the CPU allow is used; a large page is split when
 * only part of it changes. Table frames come from the frame allocator and are
 * reached through the direct map.
 */
#ifndef KEEL_PAGING_H
#define KEEL_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Mapping attributes (the architectural PTE bits where they have one). */
#define PT_PRESENT (1ull << 0)
#define PT_WRITE   (1ull << 1)
#define PT_USER    (1ull << 2)
#define PT_PWT     (1ull << 3)
#define PT_PCD     (1ull << 4)
#define PT_LARGE   (1ull << 7) /* PS bit in a PDPTE or PDE */
#define PT_GLOBAL  (1ull << 8)
#define PT_OWNED   (1ull << 9) /* software bit: the frame belongs to the mapping's owner */
#define PT_NX      (1ull << 63)
#define PT_NOCACHE (PT_PCD | PT_PWT) /* UC with the default PAT */

#define PAGE_SIZE_4K 0x1000ull
#define PAGE_SIZE_2M 0x200000ull
#define PAGE_SIZE_1G 0x40000000ull

/* Which page sizes paging_map may use. */
#define PT_ALLOW_2M    (1u << 0)
#define PT_ALLOW_1G    (1u << 1)
#define PT_ALLOW_LARGE (PT_ALLOW_2M | PT_ALLOW_1G)

enum paging_error {
    PAGING_OK = 0,
    PAGING_ENOMEM = -1, /* no frame for a table */
    PAGING_EALIGN = -2, /* va, pa or size not 4 KiB-aligned */
    PAGING_ERANGE = -3, /* non-canonical or wrapping range */
    PAGING_EEXIST = -4, /* part of the range already mapped */
};

/* Frame source for page tables: returns a zeroed frame's physical address or 0. */
void paging_set_frame_source(uint64_t (*alloc_frame)(void));

/* Allocates an empty PML4. Returns its physical address or 0. */
uint64_t paging_new_root(void);

int paging_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
               unsigned allow);
int paging_unmap(uint64_t root, uint64_t va, uint64_t size);
int paging_protect(uint64_t root, uint64_t va, uint64_t size, uint64_t flags);

/* Translates va; on success fills pa, the leaf's flags and its page size. */
bool paging_lookup(uint64_t root, uint64_t va, uint64_t *pa, uint64_t *flags, uint64_t *page_size);

/* True when va is mapped in the current address space (CR3). */
bool paging_is_mapped(uint64_t va);

/* Whether NX and 1 GiB pages may be used (set from CPUID at boot). */
void paging_set_capabilities(bool nx, bool page1g);

#endif
