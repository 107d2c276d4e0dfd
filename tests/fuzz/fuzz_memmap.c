/*
 * libFuzzer target: the memory map (kernel/memmap.c). Input: a count byte,
 * that many raw entries, then reservations, each record 17 bytes (base,
 * length, a control byte). Control bit 7 selects a dense encoding (small
 * page-ish numbers) so that overlaps and touching ranges are common; its low
 * bits give the type. After memmap_normalize() the map must be sound and
 * agree pointwise with the raw entries; after each memmap_reserve() only
 * usable bytes in the range may have changed; memmap_find_free() must
 * return a usable, aligned range within its bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_check.h"
#include "memmap.h"
#include "memmap_oracle.h"

#define RECORD             17
#define ORACLE_MAX_ENTRIES 48 /* the pointwise oracle is O(n^3): keep runs fast */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct record {
    uint64_t base, length;
    uint8_t control;
};

static struct record take(const uint8_t *p)
{
    struct record r;
    memcpy(&r.base, p, 8);
    memcpy(&r.length, p + 8, 8);
    r.control = p[16];
    if (r.control & 0x80) {
        r.base = (r.base & 0xffff) << 8;
        r.length = (r.length & 0xffff) << 4;
    }
    return r;
}

static bool diag_mentions(const struct diag *d, const char *what)
{
    for (unsigned i = 0; i < d->count && i < DIAG_MAX; i++) {
        if (strstr(d->msg[i], what) != NULL)
            return true;
    }
    return false;
}

static void check_find(const struct memmap *m, uint64_t length, uint64_t min, uint64_t max)
{
    uint64_t r = memmap_find_free(m, length, min, max);
    if (r == 0)
        return;
    REQUIRE(r % MEMMAP_PAGE == 0 && r >= min && r <= max && length <= max - r);
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->base <= r && r - e->base < e->length) {
            REQUIRE(e->type == MEMMAP_USABLE && length <= e->length - (r - e->base));
            return;
        }
    }
    REQUIRE(!"find_free returned an address in no entry");
}

static void reserve(struct memmap *m, struct record r)
{
    static struct memmap before;
    before = *m;
    uint32_t type = MEMMAP_KERNEL + (r.control & 3);
    bool ok = memmap_reserve(m, r.base, r.length, (enum memmap_type)type);
    REQUIRE_OK(memmap_check_sound(m));
    REQUIRE(memmap_usable_bytes(m) <= memmap_usable_bytes(&before));
    if (type > MEMMAP_BOOTDATA || !ok) {
        REQUIRE(memcmp(m, &before, sizeof(*m)) == 0);
    } else if (r.length != 0 && m->count <= ORACLE_MAX_ENTRIES && r.length <= UINT64_MAX - r.base &&
               r.base + r.length <= UINT64_MAX - MEMMAP_PAGE) {
        uint64_t lo = r.base & ~(MEMMAP_PAGE - 1);
        uint64_t hi = (r.base + r.length + MEMMAP_PAGE - 1) & ~(MEMMAP_PAGE - 1);
        REQUIRE_OK(memmap_check_reserve(m, &before, lo, hi, type));
    }
    check_find(m, r.length, r.base, UINT64_MAX);
    check_find(m, MEMMAP_PAGE, 0, r.base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct memmap m, raw;
    struct diag d = {0};
    if (size < 1)
        return 0;
    unsigned n = data[0];
    size_t off = 1;
    memmap_init(&m);
    for (unsigned i = 0; i < n && size - off >= RECORD; i++, off += RECORD) {
        struct record r = take(data + off);
        memmap_add_raw(&m, r.base, r.length, r.control & 7, &d);
    }
    REQUIRE(m.count <= MEMMAP_MAX && (!m.overflowed || m.count == MEMMAP_MAX));
    raw = m;
    memset(&d, 0, sizeof(d));
    memmap_normalize(&m, &d);
    require_diag_sound(&d);
    REQUIRE_OK(memmap_check_sound(&m));
    if (raw.count <= ORACLE_MAX_ENTRIES)
        REQUIRE_OK(memmap_check_against_raw(&m, &raw, !diag_mentions(&d, "did not fit")));
    REQUIRE(memmap_usable_bytes(&m) <= memmap_usable_bytes(&raw));
    for (; size - off >= RECORD; off += RECORD)
        reserve(&m, take(data + off));
    return 0;
}
