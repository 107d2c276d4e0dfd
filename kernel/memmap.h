/*
 * The physical memory map: the boot loader's list of ranges, made sound
 * (sorted, without overlaps, usable ranges page-aligned) before the frame
 * allocator sees it, and then carved up as the core reserves its own image,
 * the boot modules and firmware areas. Pure logic; unit-tested on the host.
 */
#ifndef KEEL_MEMMAP_H
#define KEEL_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

#define MEMMAP_MAX  160
#define MEMMAP_PAGE 4096ull

/* Ordered from least to most restrictive: where ranges overlap, the higher
 * value wins (so reserved beats usable, never the other way round). The
 * first five match the multiboot/E820 numbering. */
enum memmap_type {
    MEMMAP_USABLE = 1,
    MEMMAP_RESERVED = 2,
    MEMMAP_ACPI_RECLAIMABLE = 3,
    MEMMAP_ACPI_NVS = 4,
    MEMMAP_BAD = 5,
    MEMMAP_KERNEL = 6,  /* the core image (reserved by the core itself) */
    MEMMAP_MODULE = 7,  /* a boot module */
    MEMMAP_BOOTDATA = 8 /* multiboot info, allocator metadata, early tables */
};

struct memmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum memmap_type; unknown loader types are stored as RESERVED */
};

struct memmap {
    unsigned count;
    bool overflowed; /* the loader listed more than MEMMAP_MAX entries */
    struct memmap_entry entries[MEMMAP_MAX];
};

void memmap_init(struct memmap *m);

/* Appends a raw entry as the loader gave it (any alignment, any overlap).
 * Zero-length entries and entries that wrap past 2^64 are reported in d and
 * dropped; types outside 1..5 become MEMMAP_RESERVED with a diagnostic. */
void memmap_add_raw(struct memmap *m, uint64_t base, uint64_t length, uint32_t loader_type,
                    struct diag *d);

/* Makes the map sound: sorted by base, no two entries overlap (the more
 * restrictive type wins on overlap), adjacent entries of the same type merged,
 * usable ranges shrunk inward to page boundaries (partial pages are dropped).
 * Each kind of repair is reported once in d with the number of cases. */
void memmap_normalize(struct memmap *m, struct diag *d);

/* Marks [base, base+length) as type (more restrictive than what is there:
 * only usable parts change type; other types are left as they were). Keeps the
 * map normalized; widens the range outward to page boundaries. Returns false if
 * the map had no room for the split (the range is then left unchanged). */
bool memmap_reserve(struct memmap *m, uint64_t base, uint64_t length, enum memmap_type type);

/* Sum of usable bytes. */
uint64_t memmap_usable_bytes(const struct memmap *m);

/* End (exclusive) of the highest entry of any type; 0 for an empty map. */
uint64_t memmap_highest_address(const struct memmap *m);

/* Finds a usable, page-aligned range of at least length bytes lying entirely
 * within [min, max); returns its base or 0 when there is none. Does not
 * reserve it. */
uint64_t memmap_find_free(const struct memmap *m, uint64_t length, uint64_t min, uint64_t max);

const char *memmap_type_name(uint32_t type);

#endif
