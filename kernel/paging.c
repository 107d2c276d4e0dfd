/* Host page tables. See paging.h. */
#include "paging.h"
#include "cpu.h"
#include "kstring.h"
#include "layout.h"

#define ENTRIES       512
#define ADDR_MASK     0x000ffffffffff000ull
#define LEVEL_PML4    3
#define ATTR_MASK     (PT_WRITE | PT_USER | PT_PWT | PT_PCD | PT_GLOBAL | PT_OWNED | PT_NX)
#define LARGE_PAT_BIT (1ull << 12) /* PAT bit position in 2M/1G entries (SDM 4.5, table 4-15) */

static uint64_t (*frame_source)(void);
static bool nx_allowed;
static bool page1g_allowed;

void paging_set_frame_source(uint64_t (*alloc_frame)(void))
{
    frame_source = alloc_frame;
}

void paging_set_capabilities(bool nx, bool page1g)
{
    nx_allowed = nx;
    page1g_allowed = page1g;
}

static uint64_t *table_at(uint64_t phys)
{
    return (uint64_t *)phys_to_virt(phys & ADDR_MASK);
}

static unsigned index_at(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & (ENTRIES - 1);
}

static uint64_t level_size(int level)
{
    return 1ull << (12 + 9 * level);
}

static bool canonical(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}

static uint64_t leaf_attrs(uint64_t flags)
{
    uint64_t a = (flags & ATTR_MASK) | PT_PRESENT;
    if (!nx_allowed)
        a &= ~PT_NX;
    return a;
}

uint64_t paging_new_root(void)
{
    return frame_source ? frame_source() : 0;
}

/* Replaces the large leaf *entry (at level 1 or 2) by a table of 512 smaller
 * leaves with the same attributes. */
static int split_large(uint64_t *entry, int level)
{
    uint64_t frame = frame_source ? frame_source() : 0;
    if (!frame)
        return PAGING_ENOMEM;
    uint64_t *t = table_at(frame);
    uint64_t attrs = *entry & (ATTR_MASK | PT_PRESENT);
    uint64_t base = *entry & ADDR_MASK & ~LARGE_PAT_BIT;
    uint64_t child = level_size(level - 1);
    for (unsigned i = 0; i < ENTRIES; i++)
        t[i] = (base + i * child) | attrs | (level - 1 > 0 ? PT_LARGE : 0);
    *entry = frame | PT_PRESENT | PT_WRITE | (attrs & PT_USER);
    return PAGING_OK;
}

/* Returns the table below *entry, creating (or splitting into) one if asked. */
static uint64_t *next_table(uint64_t *entry, int level, uint64_t user, bool create, int *err)
{
    if (!(*entry & PT_PRESENT)) {
        if (!create)
            return 0;
        uint64_t frame = frame_source ? frame_source() : 0;
        if (!frame) {
            *err = PAGING_ENOMEM;
            return 0;
        }
        *entry = frame | PT_PRESENT | PT_WRITE | user;
    } else if (*entry & PT_LARGE) {
        if (!create)
            return 0;
        *err = split_large(entry, level);
        if (*err)
            return 0;
    }
    *entry |= user;
    return table_at(*entry);
}

static bool size_allowed(int level, unsigned allow)
{
    if (level == 0)
        return true;
    if (level == 1)
        return allow & PT_ALLOW_2M;
    return level == 2 && (allow & PT_ALLOW_1G) && page1g_allowed;
}

static int check_range(uint64_t va, uint64_t size)
{
    if ((va | size) & (PAGE_SIZE_4K - 1))
        return PAGING_EALIGN;
    if (size == 0 || va + size < va || !canonical(va) || !canonical(va + size - 1))
        return PAGING_ERANGE;
    return PAGING_OK;
}

int paging_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
               unsigned allow)
{
    int err = check_range(va, size);
    if (err)
        return err;
    if (pa & (PAGE_SIZE_4K - 1))
        return PAGING_EALIGN;
    uint64_t user = flags & PT_USER;
    while (size) {
        int level = 2;
        while (level > 0 && !(size_allowed(level, allow) &&
                              !((va | pa) & (level_size(level) - 1)) && size >= level_size(level)))
            level--;
        uint64_t *table = table_at(root);
        for (int l = LEVEL_PML4; l > level; l--) {
            table = next_table(&table[index_at(va, l)], l, user, true, &err);
            if (!table)
                return err ? err : PAGING_ENOMEM;
        }
        uint64_t *entry = &table[index_at(va, level)];
        if (*entry & PT_PRESENT)
            return PAGING_EEXIST;
        *entry = pa | leaf_attrs(flags) | (level > 0 ? PT_LARGE : 0);
        va += level_size(level);
        pa += level_size(level);
        size -= level_size(level);
    }
    return PAGING_OK;
}

/* Finds the leaf mapping va, splitting large pages so that the leaf lies
 * within [va, va+size) when split is set. Returns NULL when unmapped. */
static uint64_t *find_leaf(uint64_t root, uint64_t va, uint64_t size, bool split, int *level_out,
                           int *err)
{
    uint64_t *table = table_at(root);
    for (int l = LEVEL_PML4; l >= 0; l--) {
        uint64_t *entry = &table[index_at(va, l)];
        if (!(*entry & PT_PRESENT))
            return 0;
        bool leaf = l == 0 || (l < LEVEL_PML4 && (*entry & PT_LARGE));
        if (leaf) {
            bool covers = !(va & (level_size(l) - 1)) && size >= level_size(l);
            if (covers || !split || l == 0) {
                *level_out = l;
                return entry;
            }
            *err = split_large(entry, l);
            if (*err)
                return 0;
        }
        table = table_at(*entry);
    }
    return 0;
}

static void flush(uint64_t root, uint64_t va)
{
    if ((read_cr3() & ADDR_MASK) == root)
        invlpg(va);
}

/* Calls apply on every mapped leaf in [va, va+size), splitting large pages
 * that straddle the edges first; unmapped parts are skipped. */
static int for_each_leaf(uint64_t root, uint64_t va, uint64_t size,
                         void (*apply)(uint64_t *leaf, uint64_t flags), uint64_t flags)
{
    int err = check_range(va, size);
    while (!err && size) {
        int level = 0;
        uint64_t *leaf = find_leaf(root, va, size, true, &level, &err);
        uint64_t step = leaf ? level_size(level) : PAGE_SIZE_4K;
        if (leaf) {
            apply(leaf, flags);
            flush(root, va);
        }
        va += step;
        size = size > step ? size - step : 0;
    }
    return err;
}

static void clear_leaf(uint64_t *leaf, uint64_t flags)
{
    (void)flags;
    *leaf = 0;
}

static void set_leaf_attributes(uint64_t *leaf, uint64_t flags)
{
    *leaf = (*leaf & ~(ATTR_MASK | PT_PRESENT)) | leaf_attrs(flags);
}

int paging_unmap(uint64_t root, uint64_t va, uint64_t size)
{
    return for_each_leaf(root, va, size, clear_leaf, 0);
}

int paging_protect(uint64_t root, uint64_t va, uint64_t size, uint64_t flags)
{
    return for_each_leaf(root, va, size, set_leaf_attributes, flags);
}

bool paging_lookup(uint64_t root, uint64_t va, uint64_t *pa, uint64_t *flags, uint64_t *page_size)
{
    if (!canonical(va))
        return false;
    int level = 0, err = 0;
    uint64_t *leaf = find_leaf(root & ADDR_MASK, va, 0, false, &level, &err);
    if (!leaf)
        return false;
    uint64_t sz = level_size(level);
    uint64_t base = *leaf & ADDR_MASK & (level ? ~LARGE_PAT_BIT : ~0ull);
    if (pa)
        *pa = base + (va & (sz - 1));
    if (flags)
        *flags = *leaf & (ATTR_MASK | PT_PRESENT);
    if (page_size)
        *page_size = sz;
    return true;
}

bool paging_is_mapped(uint64_t va)
{
    return paging_lookup(read_cr3(), va, 0, 0, 0);
}
