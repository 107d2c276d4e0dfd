/* Frame allocator front: early bump pool, then buddy, under one lock. */
#include <stdbool.h>

#include "buddy.h"
#include "kstring.h"
#include "layout.h"
#include "pmm.h"
#include "printk.h"
#include "spinlock.h"

static struct spinlock pmm_lock = SPINLOCK_INIT;
static uint64_t pool_next, pool_end;
static struct buddy buddy;
static bool buddy_ready;

void pmm_init_early(uint64_t pool_base, uint64_t pool_pages)
{
    pool_next = pool_base;
    pool_end = pool_base + pool_pages * PAGE_SIZE;
}

static uint64_t highest_usable_end(const struct memmap *m)
{
    uint64_t end = 0;
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->type == MEMMAP_USABLE && e->base + e->length > end)
            end = e->base + e->length;
    }
    return end;
}

int pmm_init_buddy(struct memmap *m)
{
    uint64_t npages = highest_usable_end(m) / PAGE_SIZE;
    if (npages > 0xffffffffull - 1)
        npages = 0xffffffffull - 1;
    uint64_t meta_bytes = (buddy_metadata_bytes(npages) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t meta = memmap_find_free(m, meta_bytes, 0x100000, npages * PAGE_SIZE);
    if (!meta || !memmap_reserve(m, meta, meta_bytes, MEMMAP_BOOTDATA))
        return -1;
    buddy_init(&buddy, 0, npages, (struct buddy_frame *)phys_to_virt(meta));
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->type == MEMMAP_USABLE)
            buddy_add_free_range(&buddy, e->base / PAGE_SIZE, e->length / PAGE_SIZE);
    }
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    buddy_ready = true;
    spin_unlock_irqrestore(&pmm_lock, flags);
    pr_debug("memory: frame allocator: %llu frames, %llu KiB of metadata at 0x%llx",
             (unsigned long long)npages, (unsigned long long)(meta_bytes / 1024),
             (unsigned long long)meta);
    return 0;
}

uint64_t pmm_alloc_pages(unsigned order)
{
    uint64_t phys = 0;
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    if (buddy_ready) {
        uint64_t pfn = buddy_alloc(&buddy, order);
        if (pfn != BUDDY_ALLOC_FAILED)
            phys = pfn * PAGE_SIZE;
    } else if (order == 0 && pool_next < pool_end) {
        phys = pool_next;
        pool_next += PAGE_SIZE;
    }
    spin_unlock_irqrestore(&pmm_lock, flags);
    if (phys)
        memset(phys_to_virt(phys), 0, PAGE_SIZE << order);
    return phys;
}

uint64_t pmm_alloc_frame(void)
{
    return pmm_alloc_pages(0);
}

void pmm_free_pages(uint64_t phys, unsigned order)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    int bad = buddy_ready ? buddy_free(&buddy, phys / PAGE_SIZE, order) : -1;
    spin_unlock_irqrestore(&pmm_lock, flags);
    if (bad)
        pr_err("memory: bad free of frame 0x%llx (order %u) ignored", (unsigned long long)phys,
               order);
}

uint64_t pmm_free_bytes(void)
{
    return buddy_ready ? buddy_free_pages(&buddy) * PAGE_SIZE : 0;
}
