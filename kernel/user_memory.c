/* User memory of partitions (see user_memory.h). */
#include <keel/hypercall.h>
#include <keel/start.h>

#include "cpu.h"
#include "kstring.h"
#include "layout.h"
#include "paging.h"
#include "pmm.h"
#include "percpu.h"
#include "smp.h"
#include "spinlock.h"
#include "user_memory.h"

#define ENTRIES    512
#define ADDR_MASK  0x000ffffffffff000ull
#define USER_SLOTS 256 /* PML4 entries of the lower half */

static bool user_range(uint64_t va, uint64_t len)
{
    return va < KEEL_USER_LIMIT && len <= KEEL_USER_LIMIT - va;
}

/* One lock orders every change of a partition's mappings against the
 * core's copies through them: a frame is never freed while another CPU
 * copies into it, and two threads never build the same table twice. */
static struct spinlock user_map_lock = SPINLOCK_INIT;

#define UNMAP_BATCH 64 /* pages unmapped per shootdown */

static void unmap_locked(uint64_t root, uint64_t va, uint64_t size, uint64_t *freed,
                         unsigned *nfreed)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t pa, flags;
        if (paging_lookup(root, va + off, &pa, &flags, 0) && (flags & PT_USER)) {
            paging_unmap(root, va + off, PAGE_SIZE);
            if (flags & PT_OWNED)
                freed[(*nfreed)++] = pa & ~(PAGE_SIZE - 1);
        }
    }
}

static void flush_if_current(void *arg)
{
    uint64_t root = (uint64_t)arg;
    if ((read_cr3() & ~(PAGE_SIZE - 1)) == root)
        write_cr3(read_cr3()); /* drop the stale translations */
}

/* Other CPUs running threads of root may hold the old translations in their
 * TLBs: flush them before the frames can be reused (a TLB shootdown). */
static void shootdown(uint64_t root)
{
    unsigned me = this_cpu()->index;
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (i != me && cpu_table[i] && cpu_table[i]->online_word)
            smp_cross_call(i, flush_if_current, (void *)root, false, 1000000);
    }
}

void user_unmap(uint64_t root, uint64_t va, uint64_t size)
{
    uint64_t freed[UNMAP_BATCH];
    for (uint64_t off = 0; off < size; off += UNMAP_BATCH * PAGE_SIZE) {
        uint64_t chunk =
            size - off < UNMAP_BATCH * PAGE_SIZE ? size - off : UNMAP_BATCH * PAGE_SIZE;
        unsigned nfreed = 0;
        uint64_t flags = spin_lock_irqsave(&user_map_lock);
        unmap_locked(root, va + off, chunk, freed, &nfreed);
        spin_unlock_irqrestore(&user_map_lock, flags);
        shootdown(root);
        for (unsigned i = 0; i < nfreed; i++)
            pmm_free_pages(freed[i], 0);
    }
}

int user_map_fresh(uint64_t root, uint64_t va, uint64_t size, bool writable, bool executable)
{
    if ((va | size) & (PAGE_SIZE - 1) || !size || !user_range(va, size))
        return -KEEL_EINVAL;
    uint64_t flags = PT_USER | PT_OWNED | (writable ? PT_WRITE : 0) | (executable ? 0 : PT_NX);
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t frame = pmm_alloc_frame();
        uint64_t irq = spin_lock_irqsave(&user_map_lock);
        int err = frame ? paging_map(root, va + off, frame, PAGE_SIZE, flags, 0) : PAGING_ENOMEM;
        spin_unlock_irqrestore(&user_map_lock, irq);
        if (err) {
            if (frame)
                pmm_free_pages(frame, 0);
            user_unmap(root, va, off);
            return err == PAGING_EEXIST ? -KEEL_EEXIST : -KEEL_ENOMEM;
        }
    }
    return 0;
}

int user_map_shared_readonly(uint64_t root, uint64_t va, uint64_t phys, uint64_t size)
{
    if ((va | phys | size) & (PAGE_SIZE - 1) || !size || !user_range(va, size))
        return -KEEL_EINVAL;
    uint64_t irq = spin_lock_irqsave(&user_map_lock);
    int err = paging_map(root, va, phys, size, PT_USER | PT_NX, 0);
    if (err)
        paging_unmap(root, va, size);
    spin_unlock_irqrestore(&user_map_lock, irq);
    return err == 0 ? 0 : err == PAGING_EEXIST ? -KEEL_EEXIST : -KEEL_ENOMEM;
}

int user_map_frame(uint64_t root, uint64_t va, uint64_t phys, bool writable)
{
    uint64_t irq = spin_lock_irqsave(&user_map_lock);
    int err = paging_map(root, va, phys, PAGE_SIZE, PT_USER | PT_NX | (writable ? PT_WRITE : 0), 0);
    spin_unlock_irqrestore(&user_map_lock, irq);
    return err ? -KEEL_ENOMEM : 0;
}

bool user_lookup(uint64_t root, uint64_t va, uint64_t *phys, uint64_t *flags)
{
    uint64_t irq = spin_lock_irqsave(&user_map_lock);
    bool found = paging_lookup(root, va, phys, flags, 0);
    spin_unlock_irqrestore(&user_map_lock, irq);
    return found;
}

/* Frees a table at level (3 PDPT, 2 PD, 1 PT) and what it owns. */
static void free_table(uint64_t table_phys, int level)
{
    uint64_t *t = phys_to_virt(table_phys);
    for (unsigned i = 0; i < ENTRIES; i++) {
        uint64_t e = t[i];
        if (!(e & PT_PRESENT))
            continue;
        if (level > 1 && !(e & PT_LARGE))
            free_table(e & ADDR_MASK, level - 1);
        else if (level == 1 && (e & PT_OWNED))
            pmm_free_pages(e & ADDR_MASK, 0);
    }
    pmm_free_pages(table_phys, 0);
}

void user_destroy_address_space(uint64_t root)
{
    uint64_t *pml4 = phys_to_virt(root);
    for (unsigned i = 0; i < USER_SLOTS; i++) {
        if (pml4[i] & PT_PRESENT)
            free_table(pml4[i] & ADDR_MASK, 3);
    }
    pmm_free_pages(root, 0);
}

static bool copy_user_locked(uint64_t root, uint64_t user, void *kernel, size_t len, bool to_user,
                             bool need_write)
{
    while (len) {
        uint64_t pa, flags;
        if (!paging_lookup(root, user, &pa, &flags, 0) || !(flags & PT_USER) ||
            (need_write && !(flags & PT_WRITE)))
            return false;
        size_t chunk = PAGE_SIZE - (user & (PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        if (to_user)
            memcpy(phys_to_virt(pa), kernel, chunk);
        else
            memcpy(kernel, phys_to_virt(pa), chunk);
        user += chunk;
        kernel = (char *)kernel + chunk;
        len -= chunk;
    }
    return true;
}

static bool copy_user_checked(uint64_t root, uint64_t user, void *kernel, size_t len, bool to_user,
                              bool need_write)
{
    if (!user_range(user, len))
        return false;
    uint64_t irq = spin_lock_irqsave(&user_map_lock);
    bool ok = copy_user_locked(root, user, kernel, len, to_user, need_write);
    spin_unlock_irqrestore(&user_map_lock, irq);
    return ok;
}

bool copy_from_user(uint64_t root, void *dst, uint64_t user_src, size_t len)
{
    return copy_user_checked(root, user_src, dst, len, false, false);
}

bool copy_to_user(uint64_t root, uint64_t user_dst, const void *src, size_t len)
{
    return copy_user_checked(root, user_dst, (void *)src, len, true, true);
}

bool user_write_initial(uint64_t root, uint64_t va, const void *src, size_t len)
{
    return len == 0 || copy_user_checked(root, va, (void *)src, len, true, false);
}
