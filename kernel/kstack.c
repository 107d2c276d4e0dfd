/* Guarded kernel stacks (see kstack.h). Stacks are never freed: there is
 * one per CPU, for the life of the system. */
#include "kstack.h"
#include "layout.h"
#include "memory.h"
#include "paging.h"
#include "percpu.h"
#include "pmm.h"
#include "printk.h"
#include "spinlock.h"

#define KSTACK_SLOT_SIZE (KERNEL_STACK_SIZE + PAGE_SIZE) /* guard page, then the stack */
#define PML4_SLOT(va)    (((va) >> 39) & 511)

extern char boot_stack[];

static struct spinlock kstack_lock = SPINLOCK_INIT;
static uint64_t next_slot = KSTACK_REGION_BASE;

/* Stacks given back, still mapped: reused before a new slot is built. The
 * link lives in the stack's lowest word. */
static uint64_t free_stacks; /* top of the first free stack, or 0 */

void kstack_init(void)
{
    uint64_t *pml4 = phys_to_virt(kernel_root);
    uint64_t pdpt = pmm_alloc_frame();
    if (pdpt)
        pml4[PML4_SLOT(KSTACK_REGION_BASE)] = pdpt | PT_PRESENT | PT_WRITE;
    else
        pr_warn("memory: no frame for the kernel stack region; stacks for other CPUs will "
                "fail");
    if (paging_unmap(kernel_root, (uint64_t)boot_stack, PAGE_SIZE) == PAGING_OK)
        pr_debug("memory: boot stack guard page at %p", (void *)boot_stack);
}

void kstack_free(uint64_t top)
{
    uint64_t *link = (uint64_t *)(top - KERNEL_STACK_SIZE);
    uint64_t flags = spin_lock_irqsave(&kstack_lock);
    *link = free_stacks;
    free_stacks = top;
    spin_unlock_irqrestore(&kstack_lock, flags);
}

uint64_t kstack_alloc(void)
{
    uint64_t flags = spin_lock_irqsave(&kstack_lock);
    if (free_stacks) {
        uint64_t top = free_stacks;
        free_stacks = *(uint64_t *)(top - KERNEL_STACK_SIZE);
        spin_unlock_irqrestore(&kstack_lock, flags);
        return top;
    }
    uint64_t slot = next_slot;
    next_slot += KSTACK_SLOT_SIZE;
    spin_unlock_irqrestore(&kstack_lock, flags);

    uint64_t base = slot + PAGE_SIZE;
    for (uint64_t off = 0; off < KERNEL_STACK_SIZE; off += PAGE_SIZE) {
        uint64_t frame = pmm_alloc_frame();
        if (!frame ||
            paging_map(kernel_root, base + off, frame, PAGE_SIZE, PT_WRITE | PT_NX | PT_GLOBAL, 0))
            return 0; /* frames already mapped stay with the abandoned slot */
    }
    return base + KERNEL_STACK_SIZE;
}
