/* User memory of partitions (see user_memory.h). */
#include <keel/hypercall.h>
#include <keel/start.h>

#include "kstring.h"
#include "layout.h"
#include "paging.h"
#include "pmm.h"
#include "user_memory.h"

#define ENTRIES    512
#define ADDR_MASK  0x000ffffffffff000ull
#define USER_SLOTS 256 /* PML4 entries of the lower half */

static bool user_range(uint64_t va, uint64_t len)
{
    return va < KEEL_USER_LIMIT && len <= KEEL_USER_LIMIT - va;
}

int user_map_fresh(uint64_t root, uint64_t va, uint64_t size, bool writable, bool executable)
{
    if ((va | size) & (PAGE_SIZE - 1) || !size || !user_range(va, size))
        return -KEEL_EINVAL;
    uint64_t flags = PT_USER | PT_OWNED | (writable ? PT_WRITE : 0) | (executable ? 0 : PT_NX);
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t frame = pmm_alloc_frame();
        int err = frame ? paging_map(root, va + off, frame, PAGE_SIZE, flags, 0) : PAGING_ENOMEM;
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
    int err = paging_map(root, va, phys, size, PT_USER | PT_NX, 0);
    if (err) {
        paging_unmap(root, va, size);
        return err == PAGING_EEXIST ? -KEEL_EEXIST : -KEEL_ENOMEM;
    }
    return 0;
}

void user_unmap(uint64_t root, uint64_t va, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
        uint64_t pa, flags;
        if (paging_lookup(root, va + off, &pa, &flags, 0) && (flags & PT_USER)) {
            paging_unmap(root, va + off, PAGE_SIZE);
            if (flags & PT_OWNED)
                pmm_free_pages(pa & ~(PAGE_SIZE - 1), 0);
        }
    }
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

static bool copy_user_checked(uint64_t root, uint64_t user, void *kernel, size_t len, bool to_user,
                              bool need_write)
{
    if (!user_range(user, len))
        return false;
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
