/* Host unit tests of kernel/memmap.c. */
#include "check.h"
#include "memmap.h"
#include "memmap_oracle.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

static struct diag d;

static void add(struct memmap *m, uint64_t base, uint64_t len, uint32_t type)
{
    memmap_add_raw(m, base, len, type, &d);
}

static bool entry_is(const struct memmap *m, unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
    if (i >= m->count) {
        FAILF("entry %u missing (count %u)", i, m->count);
        return false;
    }
    const struct memmap_entry *e = &m->entries[i];
    if (e->base != base || e->length != len || e->type != type) {
        FAILF("entry %u is 0x%llx+0x%llx type %u, expected 0x%llx+0x%llx type %u", i,
              (unsigned long long)e->base, (unsigned long long)e->length, e->type,
              (unsigned long long)base, (unsigned long long)len, type);
        return false;
    }
    check_state.checks++;
    return true;
}

static void reset(struct memmap *m)
{
    memset(&d, 0, sizeof(d));
    memmap_init(m);
}

static void normalize_checked(struct memmap *m)
{
    struct memmap raw = *m;
    memmap_normalize(m, &d);
    CHECK_OK(memmap_check_sound(m));
    CHECK_OK(memmap_check_against_raw(m, &raw, true));
}

static void init_empty(void)
{
    struct memmap m;
    memset(&m, 0xa5, sizeof(m));
    reset(&m);
    CHECK_EQ(m.count, 0);
    CHECK(!m.overflowed);
    CHECK_EQ(memmap_usable_bytes(&m), 0);
    CHECK_EQ(memmap_highest_address(&m), 0);
    CHECK_EQ(memmap_find_free(&m, 4096, 0, UINT64_MAX), 0);
    memmap_normalize(&m, &d);
    CHECK_EQ(m.count, 0);
    CHECK_NO_DIAG(&d);
}

static void add_raw_filters(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0x1000, 0, MEMMAP_USABLE);
    CHECK_EQ(m.count, 0);
    CHECK_DIAG(&d, "empty entry at 0x1000 dropped");
    add(&m, UINT64_MAX - 0xfff, 0x1001, MEMMAP_USABLE);
    CHECK_EQ(m.count, 0);
    CHECK_DIAG(&d, "wraps past 2^64");
    add(&m, UINT64_MAX - 0xfff, 0xfff, MEMMAP_RESERVED); /* ends exactly at UINT64_MAX */
    CHECK_EQ(m.count, 1);
    add(&m, 0, 0x1000, 0);
    add(&m, 0x1000, 0x1000, 6);
    add(&m, 0x2000, 0x1000, 0xffffffffu);
    CHECK_EQ(m.count, 4);
    CHECK_EQ(m.entries[1].type, MEMMAP_RESERVED);
    CHECK_EQ(m.entries[2].type, MEMMAP_RESERVED);
    CHECK_EQ(m.entries[3].type, MEMMAP_RESERVED);
    CHECK_DIAG(&d, "has unknown type 4294967295; taken as reserved");
    CHECK_EQ(d.count, 5);
}

static void add_raw_overflow(void)
{
    struct memmap m;
    reset(&m);
    for (unsigned i = 0; i < MEMMAP_MAX + 10; i++)
        add(&m, i * 2 * MiB, MiB, MEMMAP_USABLE);
    CHECK_EQ(m.count, MEMMAP_MAX);
    CHECK(m.overflowed);
    CHECK_EQ(d.count, 1); /* reported once */
    CHECK_DIAG(&d, "more than 160 entries");
}

/* What QEMU's firmware reports for 128 MiB: only the partial page at 639 KiB
 * needs a repair. */
static void qemu_map(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 0x9fc00, MEMMAP_USABLE);
    add(&m, 0x9fc00, 0x400, MEMMAP_RESERVED);
    add(&m, 0xf0000, 0x10000, MEMMAP_RESERVED);
    add(&m, 0x100000, 0x7ee0000, MEMMAP_USABLE);
    add(&m, 0x7fe0000, 0x20000, MEMMAP_RESERVED);
    add(&m, 0xfffc0000, 0x40000, MEMMAP_RESERVED);
    normalize_checked(&m);
    CHECK_EQ(m.count, 6);
    entry_is(&m, 0, 0, 0x9f000, MEMMAP_USABLE);
    entry_is(&m, 1, 0x9fc00, 0x400, MEMMAP_RESERVED);
    entry_is(&m, 3, 0x100000, 0x7ee0000, MEMMAP_USABLE);
    /* The partial page at 0x9f000 is shared with the EBDA: no repair. */
    CHECK_NO_DIAG(&d);
    CHECK_EQ(memmap_usable_bytes(&m), 0x9f000 + 0x7ee0000);
    CHECK_EQ(memmap_highest_address(&m), 0x100000000ull);
}

static void sorts(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0x300000, 0x100000, MEMMAP_USABLE);
    add(&m, 0x100000, 0x100000, MEMMAP_RESERVED);
    add(&m, 0, 0x1000, MEMMAP_ACPI_NVS);
    normalize_checked(&m);
    CHECK_EQ(m.count, 3);
    entry_is(&m, 0, 0, 0x1000, MEMMAP_ACPI_NVS);
    entry_is(&m, 1, 0x100000, 0x100000, MEMMAP_RESERVED);
    entry_is(&m, 2, 0x300000, 0x100000, MEMMAP_USABLE);
    CHECK_DIAG(&d, "2 entries out of order; sorted");
}

static void overlap_restrictive_wins(void)
{
    for (int order = 0; order < 2; order++) {
        struct memmap m;
        reset(&m);
        if (order == 0)
            add(&m, 0, 16 * MiB, MEMMAP_USABLE);
        add(&m, 4 * MiB, 1 * MiB, MEMMAP_RESERVED);
        if (order == 1)
            add(&m, 0, 16 * MiB, MEMMAP_USABLE);
        normalize_checked(&m);
        CHECK_EQ(m.count, 3);
        entry_is(&m, 0, 0, 4 * MiB, MEMMAP_USABLE);
        entry_is(&m, 1, 4 * MiB, MiB, MEMMAP_RESERVED);
        entry_is(&m, 2, 5 * MiB, 11 * MiB, MEMMAP_USABLE);
        CHECK_DIAG(&d, "2 overlapping entries; the more restrictive type was kept");
    }
}

static void overlap_nested_and_partial(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 64 * MiB, MEMMAP_USABLE);
    add(&m, 8 * MiB, 8 * MiB, MEMMAP_RESERVED);
    add(&m, 10 * MiB, 2 * MiB, MEMMAP_ACPI_NVS);
    add(&m, 15 * MiB, 2 * MiB, MEMMAP_BAD);              /* straddles the reserved end */
    add(&m, 60 * MiB, 8 * MiB, MEMMAP_ACPI_RECLAIMABLE); /* straddles the usable end */
    normalize_checked(&m);
    CHECK_EQ(m.count, 7);
    entry_is(&m, 0, 0, 8 * MiB, MEMMAP_USABLE);
    entry_is(&m, 1, 8 * MiB, 2 * MiB, MEMMAP_RESERVED);
    entry_is(&m, 2, 10 * MiB, 2 * MiB, MEMMAP_ACPI_NVS);
    entry_is(&m, 3, 12 * MiB, 3 * MiB, MEMMAP_RESERVED);
    entry_is(&m, 4, 15 * MiB, 2 * MiB, MEMMAP_BAD);
    entry_is(&m, 5, 17 * MiB, 43 * MiB, MEMMAP_USABLE);
    entry_is(&m, 6, 60 * MiB, 8 * MiB, MEMMAP_ACPI_RECLAIMABLE);
    CHECK_DIAG(&d, "5 overlapping entries");
}

static void merges_adjacent_and_duplicates(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0x100000, 0x100000, MEMMAP_USABLE);
    add(&m, 0x200000, 0x100000, MEMMAP_USABLE);
    add(&m, 0x300000, 0x1000, MEMMAP_RESERVED);
    add(&m, 0x300000, 0x1000, MEMMAP_RESERVED);
    normalize_checked(&m);
    CHECK_EQ(m.count, 2);
    entry_is(&m, 0, 0x100000, 0x200000, MEMMAP_USABLE);
    entry_is(&m, 1, 0x300000, 0x1000, MEMMAP_RESERVED);
    CHECK_EQ(d.count, 1); /* merging is not a repair */
    CHECK_DIAG(&d, "2 overlapping entries");
}

static void trims_usable(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0x1001, 0x2ffe, MEMMAP_USABLE);  /* [0x1001, 0x3fff) -> [0x2000, 0x3000) */
    add(&m, 0x10100, 0xe00, MEMMAP_USABLE);  /* within one page: vanishes */
    add(&m, 0x20010, 0x10, MEMMAP_RESERVED); /* reserved ranges keep their bytes */
    normalize_checked(&m);
    CHECK_EQ(m.count, 2);
    entry_is(&m, 0, 0x2000, 0x1000, MEMMAP_USABLE);
    entry_is(&m, 1, 0x20010, 0x10, MEMMAP_RESERVED);
    CHECK_DIAG(&d, "2 usable entries have unaligned edges; partial pages dropped");
}

/* What keel.test=bad-memmap adds to QEMU's map: only the unaligned usable
 * entry whose edges no other entry explains is reported as unaligned. */
static void unaligned_explained_or_not(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 0x9fc00, MEMMAP_USABLE);
    add(&m, 0x9fc00, 0x400, MEMMAP_RESERVED);
    add(&m, 0x100000, 0x1fee0000, MEMMAP_USABLE);
    add(&m, 0x9f800, 0x1000, MEMMAP_RESERVED);
    add(&m, 0x300800, 0x2000, MEMMAP_ACPI_NVS);
    normalize_checked(&m);
    CHECK_EQ(d.count, 2);
    CHECK_DIAG(&d, "5 overlapping entries");
    CHECK_DIAG(&d, "1 entries out of order; sorted");
    add(&m, 0x100234, 0x3456, MEMMAP_USABLE);
    memset(&d, 0, sizeof(d));
    normalize_checked(&m);
    CHECK_DIAG(&d, "1 usable entries have unaligned edges; partial pages dropped");
    entry_is(&m, 0, 0, 0x9f000, MEMMAP_USABLE);
    entry_is(&m, 2, 0x100000, 0x200000, MEMMAP_USABLE);
    entry_is(&m, 3, 0x300800, 0x2000, MEMMAP_ACPI_NVS);
    entry_is(&m, 4, 0x303000, 0x1fee0000 - 0x203000, MEMMAP_USABLE);
}

static void idempotent(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0x500, 0x100000, MEMMAP_USABLE);
    add(&m, 0x8000, 0x800, MEMMAP_RESERVED);
    add(&m, 0x0, 0x9000, MEMMAP_USABLE);
    normalize_checked(&m);
    struct memmap once = m;
    memset(&d, 0, sizeof(d));
    memmap_normalize(&m, &d);
    CHECK_NO_DIAG(&d);
    CHECK(memcmp(&once, &m, sizeof(m)) == 0);
}

/* n entries, each splitting the usable range: the result needs more than
 * MEMMAP_MAX entries; the excess is dropped and reported, the rest stays sound. */
static void split_overflow(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 4 * GiB, MEMMAP_USABLE);
    for (unsigned i = 1; i < MEMMAP_MAX; i++)
        add(&m, i * 16 * MiB, MiB, MEMMAP_RESERVED);
    struct memmap raw = m;
    memmap_normalize(&m, &d);
    CHECK_OK(memmap_check_sound(&m));
    CHECK_OK(memmap_check_against_raw(&m, &raw, false));
    CHECK_EQ(m.count, MEMMAP_MAX);
    CHECK_DIAG(&d, "ranges did not fit after splitting overlaps; dropped");
}

static void hand_filled_garbage(void)
{
    struct memmap m;
    reset(&m);
    m.count = MEMMAP_MAX + 50; /* out of range: clamped */
    for (unsigned i = 0; i < MEMMAP_MAX; i++) {
        m.entries[i].base = UINT64_MAX - i * 12345;
        m.entries[i].length = i * 77777;
        m.entries[i].type = i % 11;
    }
    memmap_normalize(&m, &d);
    CHECK_OK(memmap_check_sound(&m));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random maps over a small address range (so overlaps abound), checked
 * pointwise against the raw entries, then random reservations. */
static void random_against_model(void)
{
    for (int iter = 0; iter < 3000; iter++) {
        struct memmap m;
        reset(&m);
        unsigned n = 1 + rng() % 40;
        for (unsigned i = 0; i < n; i++) {
            uint64_t base = (rng() % 64) * (rng() % 2 ? 4096 : 1000);
            uint64_t len = 1 + rng() % (rng() % 2 ? 64 * 4096 : 9000);
            add(&m, base, len, 1 + rng() % 5);
        }
        struct memmap raw = m;
        memmap_normalize(&m, &d);
        const char *why = memmap_check_sound(&m);
        if (why == NULL)
            why = memmap_check_against_raw(&m, &raw, true);
        if (why != NULL) {
            FAILF("iteration %d: %s", iter, why);
            return;
        }
        for (int r = 0; r < 4; r++) {
            struct memmap before = m;
            uint64_t base = rng() % (70 * 4096), len = rng() % (8 * 4096);
            uint32_t type = MEMMAP_KERNEL + rng() % 3;
            bool ok = memmap_reserve(&m, base, len, (enum memmap_type)type);
            uint64_t lo = base & ~0xfffull, hi = (base + len + 0xfff) & ~0xfffull;
            if (len == 0)
                hi = lo;
            why = memmap_check_sound(&m);
            if (why == NULL && ok)
                why = memmap_check_reserve(&m, &before, lo, hi, type);
            if (why == NULL && !ok && memcmp(&m, &before, sizeof(m)) != 0)
                why = "failed reserve changed the map";
            if (why == NULL && memmap_usable_bytes(&m) > memmap_usable_bytes(&before))
                why = "reserve added usable bytes";
            if (why != NULL) {
                FAILF("iteration %d reserve %d: %s", iter, r, why);
                return;
            }
        }
    }
    CHECK(true);
}

static void reserve_splits_and_widens(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 16 * MiB, MEMMAP_USABLE);
    normalize_checked(&m);
    CHECK(memmap_reserve(&m, MiB + 100, MiB - 200, MEMMAP_KERNEL));
    CHECK_EQ(m.count, 3);
    entry_is(&m, 0, 0, MiB, MEMMAP_USABLE);
    entry_is(&m, 1, MiB, MiB, MEMMAP_KERNEL);
    entry_is(&m, 2, 2 * MiB, 14 * MiB, MEMMAP_USABLE);
    CHECK_EQ(memmap_usable_bytes(&m), 15 * MiB);
    /* Unaligned on both sides: widened to [2 MiB - 4 KiB, 2 MiB + 8 KiB); the
     * first page is the kernel's already and keeps its type. */
    CHECK(memmap_reserve(&m, 2 * MiB - 1, 4097 + 1, MEMMAP_MODULE));
    CHECK_EQ(m.count, 4);
    entry_is(&m, 1, MiB, MiB, MEMMAP_KERNEL);
    entry_is(&m, 2, 2 * MiB, 8192, MEMMAP_MODULE);
    entry_is(&m, 3, 2 * MiB + 8192, 14 * MiB - 8192, MEMMAP_USABLE);
    CHECK_OK(memmap_check_sound(&m));
}

static void reserve_only_usable_changes(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, MiB, MEMMAP_USABLE);
    add(&m, MiB, MiB, MEMMAP_ACPI_NVS);
    add(&m, 4 * MiB, MiB, MEMMAP_USABLE); /* hole at [2, 4) MiB */
    normalize_checked(&m);
    struct memmap before = m;
    CHECK(memmap_reserve(&m, 512 * KiB, 4 * MiB, MEMMAP_BOOTDATA));
    CHECK_OK(memmap_check_sound(&m));
    CHECK_OK(memmap_check_reserve(&m, &before, 512 * KiB, 4608 * KiB, MEMMAP_BOOTDATA));
    entry_is(&m, 1, 512 * KiB, 512 * KiB, MEMMAP_BOOTDATA);
    entry_is(&m, 2, MiB, MiB, MEMMAP_ACPI_NVS);
    entry_is(&m, 3, 4 * MiB, 512 * KiB, MEMMAP_BOOTDATA);
    CHECK_EQ(m.count, 5);
}

static void reserve_merges_neighbours(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 16 * MiB, MEMMAP_USABLE);
    normalize_checked(&m);
    CHECK(memmap_reserve(&m, MiB, MiB, MEMMAP_KERNEL));
    CHECK(memmap_reserve(&m, 2 * MiB, MiB, MEMMAP_KERNEL));
    CHECK(memmap_reserve(&m, 2 * MiB, MiB, MEMMAP_KERNEL)); /* again: no change */
    CHECK_EQ(m.count, 3);
    entry_is(&m, 1, MiB, 2 * MiB, MEMMAP_KERNEL);
    CHECK(memmap_reserve(&m, 0, 16 * MiB, MEMMAP_KERNEL));
    CHECK_EQ(m.count, 1);
    entry_is(&m, 0, 0, 16 * MiB, MEMMAP_KERNEL);
}

static void reserve_full_map_fails_cleanly(void)
{
    struct memmap m;
    reset(&m);
    for (unsigned i = 0; i < MEMMAP_MAX; i++)
        add(&m, i * 2 * MiB, MiB, i % 2 ? MEMMAP_RESERVED : MEMMAP_USABLE);
    normalize_checked(&m);
    CHECK_EQ(m.count, MEMMAP_MAX);
    struct memmap before = m;
    CHECK(!memmap_reserve(&m, 4 * MiB + 8192, 4096, MEMMAP_KERNEL)); /* needs two more */
    CHECK(memcmp(&m, &before, sizeof(m)) == 0);
    CHECK(memmap_reserve(&m, 4 * MiB, MiB, MEMMAP_KERNEL)); /* whole entry: no split */
    CHECK(memmap_reserve(&m, 8 * MiB, 4096, MEMMAP_KERNEL) == false);
    CHECK(memmap_check_sound(&m) == NULL);
}

static void reserve_edges(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 16 * MiB, MEMMAP_USABLE);
    add(&m, UINT64_MAX - 2 * 4096 + 1, 2 * 4096 - 1, MEMMAP_USABLE);
    normalize_checked(&m);
    struct memmap before = m;
    CHECK(memmap_reserve(&m, 5 * MiB, 0, MEMMAP_KERNEL));
    CHECK(memcmp(&m, &before, sizeof(m)) == 0);
    CHECK(!memmap_reserve(&m, 0, MiB, MEMMAP_USABLE));
    CHECK(!memmap_reserve(&m, 0, MiB, (enum memmap_type)0));
    CHECK(!memmap_reserve(&m, 0, MiB, (enum memmap_type)9));
    CHECK(memmap_reserve(&m, UINT64_MAX - 10, 100, MEMMAP_BOOTDATA)); /* wraps: saturates */
    CHECK(memmap_check_sound(&m) == NULL);
    CHECK(memmap_reserve(&m, 15 * MiB, UINT64_MAX, MEMMAP_BOOTDATA));
    CHECK(memmap_check_sound(&m) == NULL);
    CHECK_EQ(memmap_usable_bytes(&m), 15 * MiB);
}

static void find_free(void)
{
    struct memmap m;
    reset(&m);
    add(&m, 0, 640 * KiB, MEMMAP_USABLE);
    add(&m, MiB, 15 * MiB, MEMMAP_USABLE);
    add(&m, 32 * MiB, 32 * MiB, MEMMAP_USABLE);
    normalize_checked(&m);
    CHECK_EQ(memmap_find_free(&m, 4096, 0, UINT64_MAX), 4096);     /* never 0 */
    CHECK_EQ(memmap_find_free(&m, 640 * KiB, 0, UINT64_MAX), MiB); /* 0 is excluded */
    CHECK_EQ(memmap_find_free(&m, MiB, 0, UINT64_MAX), MiB);
    CHECK_EQ(memmap_find_free(&m, 16 * MiB, 0, UINT64_MAX), 32 * MiB);
    CHECK_EQ(memmap_find_free(&m, MiB, 2 * MiB + 1, UINT64_MAX), 2 * MiB + 4096);
    CHECK_EQ(memmap_find_free(&m, MiB, 0, MiB + MiB - 1), 0); /* max is exclusive */
    CHECK_EQ(memmap_find_free(&m, MiB, 0, 2 * MiB), MiB);
    CHECK_EQ(memmap_find_free(&m, 33 * MiB, 0, UINT64_MAX), 0);
    CHECK_EQ(memmap_find_free(&m, 0, 0, UINT64_MAX), 0);
    CHECK_EQ(memmap_find_free(&m, 4096, 64 * MiB, UINT64_MAX), 0);
    CHECK_EQ(memmap_find_free(&m, 4096, 5 * MiB, 5 * MiB), 0);
    CHECK(memmap_reserve(&m, MiB, 15 * MiB, MEMMAP_KERNEL));
    CHECK_EQ(memmap_find_free(&m, MiB, 0, UINT64_MAX), 32 * MiB);
}

static void type_names(void)
{
    CHECK_STR(memmap_type_name(MEMMAP_USABLE), "usable");
    CHECK_STR(memmap_type_name(MEMMAP_ACPI_NVS), "ACPI NVS");
    CHECK_STR(memmap_type_name(MEMMAP_BOOTDATA), "boot data");
    CHECK_STR(memmap_type_name(0), "unknown");
    CHECK_STR(memmap_type_name(9), "unknown");
    CHECK_STR(memmap_type_name(UINT32_MAX), "unknown");
}

int main(void)
{
    check_begin("memmap");
    RUN(init_empty);
    RUN(add_raw_filters);
    RUN(add_raw_overflow);
    RUN(qemu_map);
    RUN(sorts);
    RUN(overlap_restrictive_wins);
    RUN(overlap_nested_and_partial);
    RUN(merges_adjacent_and_duplicates);
    RUN(trims_usable);
    RUN(unaligned_explained_or_not);
    RUN(idempotent);
    RUN(split_overflow);
    RUN(hand_filled_garbage);
    RUN(random_against_model);
    RUN(reserve_splits_and_widens);
    RUN(reserve_only_usable_changes);
    RUN(reserve_merges_neighbours);
    RUN(reserve_full_map_fails_cleanly);
    RUN(reserve_edges);
    RUN(find_free);
    RUN(type_names);
    return check_finish();
}
