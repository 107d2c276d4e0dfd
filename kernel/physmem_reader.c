/* Direct-map backed phys_readers (see physmem_reader.h). */
#include "physmem_reader.h"
#include "layout.h"
#include "paging.h"

#define EARLY_LIMIT 0x100000000ull

static const void *early_read(const struct phys_reader *self, uint64_t phys, size_t len)
{
    (void)self;
    if (phys >= EARLY_LIMIT || len > EARLY_LIMIT - phys)
        return 0;
    return phys_to_virt(phys);
}

static const void *direct_read(const struct phys_reader *self, uint64_t phys, size_t len)
{
    (void)self;
    if (phys >= DIRECT_MAP_LIMIT || len > DIRECT_MAP_LIMIT - phys)
        return 0;
    uint64_t first = phys & ~(PAGE_SIZE - 1);
    for (uint64_t p = first; p < phys + len; p += PAGE_SIZE) {
        if (!paging_is_mapped(DIRECT_MAP_BASE + p))
            return 0;
    }
    return phys_to_virt(phys);
}

const struct phys_reader early_phys_reader = {.read = early_read};
const struct phys_reader direct_phys_reader = {.read = direct_read};
