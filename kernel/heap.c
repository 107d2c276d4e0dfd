/* Size-class heap. Each block carries a 16-byte header naming its class (or
 * its frame order, for large blocks), so kfree needs no size. */
#include <stdint.h>

#include "heap.h"
#include "kstring.h"
#include "layout.h"
#include "pmm.h"
#include "printk.h"
#include "spinlock.h"

#define HEADER_SIZE     16
#define MIN_CLASS_SHIFT 5  /* 32 bytes */
#define MAX_CLASS_SHIFT 11 /* 2 KiB */
#define CLASSES         (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1)
#define LARGE_TAG       0x80000000u
#define HEAP_MAGIC      0x4b48u /* "KH" */

struct block_header {
    uint32_t tag; /* class index, or LARGE_TAG | frame order */
    uint16_t magic;
    uint16_t in_use;
    uint64_t pad;
};

struct free_block {
    struct block_header h;
    struct free_block *next;
};

static struct spinlock heap_lock = SPINLOCK_INIT;
static struct free_block *free_lists[CLASSES];

static int class_for(size_t total)
{
    for (int c = 0; c < CLASSES; c++) {
        if (total <= (1ul << (MIN_CLASS_SHIFT + c)))
            return c;
    }
    return -1;
}

static unsigned order_for(size_t total)
{
    unsigned order = 0;
    while ((PAGE_SIZE << order) < total)
        order++;
    return order;
}

static int refill(int c)
{
    uint64_t frame = pmm_alloc_frame();
    if (!frame)
        return -1;
    size_t size = 1ul << (MIN_CLASS_SHIFT + c);
    char *page = phys_to_virt(frame);
    for (size_t off = 0; off + size <= PAGE_SIZE; off += size) {
        struct free_block *b = (struct free_block *)(page + off);
        b->h.tag = (uint32_t)c;
        b->h.magic = HEAP_MAGIC;
        b->next = free_lists[c];
        free_lists[c] = b;
    }
    return 0;
}

void *kmalloc(size_t size)
{
    if (size > (1ul << 30))
        return 0;
    size_t total = size + HEADER_SIZE;
    int c = class_for(total);
    if (c < 0) {
        unsigned order = order_for(total);
        uint64_t phys = pmm_alloc_pages(order);
        if (!phys)
            return 0;
        struct block_header *h = phys_to_virt(phys);
        *h = (struct block_header){.tag = LARGE_TAG | order, .magic = HEAP_MAGIC, .in_use = 1};
        return (char *)h + HEADER_SIZE;
    }
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    if (!free_lists[c] && refill(c) < 0) {
        spin_unlock_irqrestore(&heap_lock, flags);
        return 0;
    }
    struct free_block *b = free_lists[c];
    free_lists[c] = b->next;
    b->h.in_use = 1;
    spin_unlock_irqrestore(&heap_lock, flags);
    return (char *)b + HEADER_SIZE;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    if (!p)
        return;
    struct block_header *h = (struct block_header *)((char *)p - HEADER_SIZE);
    if (h->magic != HEAP_MAGIC || !h->in_use || (!(h->tag & LARGE_TAG) && h->tag >= CLASSES)) {
        pr_err("heap: kfree(%p): not an allocated block (double free or corruption); ignored", p);
        return;
    }
    h->in_use = 0;
    if (h->tag & LARGE_TAG) {
        pmm_free_pages(virt_to_phys(h), h->tag & ~LARGE_TAG);
        return;
    }
    uint64_t flags = spin_lock_irqsave(&heap_lock);
    struct free_block *b = (struct free_block *)h;
    b->next = free_lists[h->tag];
    free_lists[h->tag] = b;
    spin_unlock_irqrestore(&heap_lock, flags);
}
