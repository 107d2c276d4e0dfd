/*
 * Buddy allocator of physical frames (see buddy.h). Each block is naturally
 * aligned in absolute pfn terms, so its buddy is pfn ^ 2^order. Invariant: a
 * frame's state is FREE exactly when it heads a block on free_head[order], and
 * ALLOCATED exactly when it heads a block handed out with that order; every
 * other frame of a block is INSIDE. That makes each check in buddy_free() and
 * each buddy test while coalescing O(1), and alloc/free O(BUDDY_MAX_ORDER).
 */
#include "buddy.h"
#include "kstring.h"

#define BUDDY_MAX_NPAGES 0xffffffffull /* indices must stay below BUDDY_NONE */

enum frame_state {
    FRAME_RESERVED = 0, /* not (yet) handed to the allocator; memset(0) makes it */
    FRAME_ALLOCATED = 1,
    FRAME_FREE = 2,
    FRAME_INSIDE = 3,
};

static uint64_t clamp_npages(uint64_t npages)
{
    return npages > BUDDY_MAX_NPAGES ? BUDDY_MAX_NPAGES : npages;
}

size_t buddy_metadata_bytes(uint64_t npages)
{
    return (size_t)clamp_npages(npages) * sizeof(struct buddy_frame);
}

void buddy_init(struct buddy *b, uint64_t base_pfn, uint64_t npages, struct buddy_frame *metadata)
{
    npages = clamp_npages(npages);
    if (npages > UINT64_MAX - base_pfn)
        npages = UINT64_MAX - base_pfn;
    if (metadata == NULL)
        npages = 0;
    b->base_pfn = base_pfn;
    b->npages = npages;
    b->frames = metadata;
    b->free_pages = 0;
    for (unsigned o = 0; o < BUDDY_ORDERS; o++)
        b->free_head[o] = BUDDY_NONE;
    if (npages > 0)
        memset(metadata, 0, buddy_metadata_bytes(npages));
}

static void list_push(struct buddy *b, uint32_t idx, unsigned order)
{
    struct buddy_frame *f = &b->frames[idx];
    f->state = FRAME_FREE;
    f->order = (uint8_t)order;
    f->prev = BUDDY_NONE;
    f->next = b->free_head[order];
    if (f->next != BUDDY_NONE)
        b->frames[f->next].prev = idx;
    b->free_head[order] = idx;
}

static void list_remove(struct buddy *b, uint32_t idx, unsigned order)
{
    struct buddy_frame *f = &b->frames[idx];
    if (f->prev != BUDDY_NONE)
        b->frames[f->prev].next = f->next;
    else
        b->free_head[order] = f->next;
    if (f->next != BUDDY_NONE)
        b->frames[f->next].prev = f->prev;
    f->state = FRAME_INSIDE;
}

/* Index of the buddy of block idx of this order, or BUDDY_NONE when the buddy
 * lies (partly) outside the span. */
static uint32_t buddy_of(const struct buddy *b, uint32_t idx, unsigned order)
{
    uint64_t size = 1ull << order;
    uint64_t pfn = (b->base_pfn + idx) ^ size;
    if (size > b->npages || pfn < b->base_pfn || pfn - b->base_pfn > b->npages - size)
        return BUDDY_NONE;
    return (uint32_t)(pfn - b->base_pfn);
}

/* Puts block idx of this order on the free lists, merging it with its buddy
 * for as long as the buddy is a free block of the same order. */
static void free_block(struct buddy *b, uint32_t idx, unsigned order)
{
    while (order < BUDDY_MAX_ORDER) {
        uint32_t bud = buddy_of(b, idx, order);
        if (bud == BUDDY_NONE || b->frames[bud].state != FRAME_FREE ||
            b->frames[bud].order != order)
            break;
        list_remove(b, bud, order); /* leaves it INSIDE */
        if (bud < idx) {
            b->frames[idx].state = FRAME_INSIDE;
            idx = bud;
        }
        order++;
    }
    list_push(b, idx, order);
}

/* The largest order of a block that starts at idx (aligned in absolute pfn
 * terms) and ends at or before end. */
static unsigned largest_fit(const struct buddy *b, uint64_t idx, uint64_t end)
{
    unsigned order = BUDDY_MAX_ORDER;
    while (order > 0 &&
           (((b->base_pfn + idx) & ((1ull << order) - 1)) != 0 || end - idx < (1ull << order)))
        order--;
    return order;
}

/* Hands the reserved run [start, end) of indices over as aligned blocks. */
static void add_run(struct buddy *b, uint64_t start, uint64_t end)
{
    while (start < end) {
        unsigned order = largest_fit(b, start, end);
        uint64_t size = 1ull << order;
        for (uint64_t i = start; i < start + size; i++)
            b->frames[i].state = FRAME_INSIDE;
        free_block(b, (uint32_t)start, order);
        b->free_pages += size;
        start += size;
    }
}

/* Clips [pfn, pfn + count) to the span (overflow-safe); frames that are not
 * reserved (already free or allocated) are left alone, so calling it twice
 * for a range never counts a frame twice. */
void buddy_add_free_range(struct buddy *b, uint64_t pfn, uint64_t count)
{
    uint64_t end = count > UINT64_MAX - pfn ? UINT64_MAX : pfn + count;
    if (pfn < b->base_pfn)
        pfn = b->base_pfn;
    if (end > b->base_pfn + b->npages)
        end = b->base_pfn + b->npages;
    if (pfn >= end)
        return;
    uint64_t i = pfn - b->base_pfn, stop = end - b->base_pfn;
    while (i < stop) {
        if (b->frames[i].state != FRAME_RESERVED) {
            i++;
            continue;
        }
        uint64_t run = i;
        while (i < stop && b->frames[i].state == FRAME_RESERVED)
            i++;
        add_run(b, run, i);
    }
}

uint64_t buddy_alloc(struct buddy *b, unsigned order)
{
    if (order > BUDDY_MAX_ORDER)
        return BUDDY_ALLOC_FAILED;
    unsigned o = order;
    while (o <= BUDDY_MAX_ORDER && b->free_head[o] == BUDDY_NONE)
        o++;
    if (o > BUDDY_MAX_ORDER)
        return BUDDY_ALLOC_FAILED;
    uint32_t idx = b->free_head[o];
    list_remove(b, idx, o);
    while (o > order) {
        o--;
        list_push(b, idx + (1u << o), o);
    }
    b->frames[idx].state = FRAME_ALLOCATED;
    b->frames[idx].order = (uint8_t)order;
    b->free_pages -= 1ull << order;
    return b->base_pfn + idx;
}

/* Checks, in order: order in range, pfn inside the span, pfn aligned to the
 * order, the block inside the span, and that pfn heads a block currently
 * allocated with exactly this order. Any failure returns -1 with no change. */
int buddy_free(struct buddy *b, uint64_t pfn, unsigned order)
{
    if (order > BUDDY_MAX_ORDER || pfn < b->base_pfn || pfn - b->base_pfn >= b->npages)
        return -1;
    uint64_t size = 1ull << order;
    uint64_t idx = pfn - b->base_pfn;
    if ((pfn & (size - 1)) != 0 || size > b->npages - idx)
        return -1;
    struct buddy_frame *f = &b->frames[idx];
    if (f->state != FRAME_ALLOCATED || f->order != order)
        return -1;
    f->state = FRAME_INSIDE;
    free_block(b, (uint32_t)idx, order);
    b->free_pages += size;
    return 0;
}
