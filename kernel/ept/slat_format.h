/*
 * Entry encodings behind slat.c (internal to kernel/ept/): one function per
 * question, each answering for both formats, Intel EPT (SDM Vol. 3C 29.3.2)
 * and AMD NPT (APM Vol. 2 15.25, the long-mode entries of APM 5.3.3).
 * Levels count from the leaf: 0 = page table (4 KiB), 1 = page directory
 * (2 MiB), 2 = page-directory-pointer table (1 GiB), 3 = PML4 (512 GiB).
 */
#ifndef KEEL_EPT_SLAT_FORMAT_H
#define KEEL_EPT_SLAT_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "slat.h"

#define SLAT_ROOT_LEVEL  3   /* 4-level walk: PML4 (SDM 29.3.2, APM 15.25.5) */
#define SLAT_ENTRIES     512 /* 8-byte entries per 4 KiB table */
#define SLAT_PAGE_SHIFT  12
#define SLAT_LEVEL_BITS  9
#define SLAT_PAGE_SIZE   (1ull << SLAT_PAGE_SHIFT)
#define SLAT_LARGE_LEVEL 2 /* the largest leaf: a 1 GiB PDPTE */

/* Bytes one entry at level maps. */
static inline uint64_t slat_level_size(unsigned level)
{
    return 1ull << (SLAT_PAGE_SHIFT + SLAT_LEVEL_BITS * level);
}

/* Index of gpa's entry in a table at level. */
static inline unsigned slat_index(uint64_t gpa, unsigned level)
{
    return (unsigned)(gpa >> (SLAT_PAGE_SHIFT + SLAT_LEVEL_BITS * level)) & (SLAT_ENTRIES - 1);
}

/* perms non-zero, within SLAT_RWX, with SLAT_READ. */
bool slat_fmt_perms_ok(unsigned perms);

/* A memory type the format's leaf entries can express. */
bool slat_fmt_type_ok(enum slat_format f, enum slat_memtype type);

/* A leaf at level (0..2) mapping hpa (aligned to the level's size). */
uint64_t slat_fmt_leaf(enum slat_format f, unsigned level, uint64_t hpa, unsigned perms,
                       enum slat_memtype type);

/* A non-leaf entry referencing the table at phys. */
uint64_t slat_fmt_table(enum slat_format f, uint64_t phys);

bool slat_fmt_present(enum slat_format f, uint64_t e);

/* A present entry at level maps a page (rather than referencing a table). */
bool slat_fmt_is_leaf(unsigned level, uint64_t e);

/* The physical address in a present entry (a page for a leaf, else a table). */
uint64_t slat_fmt_addr(unsigned level, uint64_t e);

unsigned slat_fmt_perms(enum slat_format f, uint64_t e);
enum slat_memtype slat_fmt_type(enum slat_format f, uint64_t e);

/* EPTP (SDM 25.6.11) or nCR3 (APM 15.25.2) for the table at root. */
uint64_t slat_fmt_root(enum slat_format f, uint64_t root);

#endif
