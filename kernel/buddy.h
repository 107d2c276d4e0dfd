/*
 * Buddy allocator of physical page frames (4 KiB), blocks of 2^order frames,
 * order 0 .. BUDDY_MAX_ORDER. Metadata lives in an array supplied by the
 * caller (one struct buddy_frame per frame of the covered span), never inside
 * the free frames, so the allocator is pure logic and host-testable.
 * Not thread-safe: the caller holds a lock.
 */
#ifndef KEEL_BUDDY_H
#define KEEL_BUDDY_H

#include <stddef.h>
#include <stdint.h>

#define BUDDY_MAX_ORDER 18 /* 2^18 frames = 1 GiB */
#define BUDDY_ORDERS    (BUDDY_MAX_ORDER + 1)
#define BUDDY_NONE      0xffffffffu

struct buddy_frame {
    uint32_t next; /* free-list links (frame index relative to base_pfn) */
    uint32_t prev;
    uint8_t order; /* order of the block this frame heads, when it heads one */
    uint8_t state; /* internal: reserved, allocated head, free head, inside a block */
};

struct buddy {
    uint64_t base_pfn;
    uint64_t npages; /* span covered by frames[]; at most 2^32 - 1 */
    struct buddy_frame *frames;
    uint32_t free_head[BUDDY_ORDERS];
    uint64_t free_pages;
};

/* Bytes of metadata needed to cover npages frames. */
size_t buddy_metadata_bytes(uint64_t npages);

/* Covers [base_pfn, base_pfn + npages) with every frame reserved (not
 * allocatable) until buddy_add_free_range() hands ranges over. */
void buddy_init(struct buddy *b, uint64_t base_pfn, uint64_t npages, struct buddy_frame *metadata);

/* Makes the reserved frames [pfn, pfn + count) allocatable (clipped to the
 * span). Used at boot for each usable range of the memory map. */
void buddy_add_free_range(struct buddy *b, uint64_t pfn, uint64_t count);

/* Allocates 2^order contiguous frames aligned to 2^order (relative to pfn 0).
 * Returns the first pfn, or BUDDY_ALLOC_FAILED. */
#define BUDDY_ALLOC_FAILED UINT64_MAX
uint64_t buddy_alloc(struct buddy *b, unsigned order);

/* Frees a block obtained from buddy_alloc with the same order. Returns 0, or
 * -1 for a pfn outside the span, a misaligned pfn, a wrong order, or a block
 * that is not currently allocated (double free): nothing changes then. */
int buddy_free(struct buddy *b, uint64_t pfn, unsigned order);

static inline uint64_t buddy_free_pages(const struct buddy *b)
{
    return b->free_pages;
}

#endif
