/*
 * Independent checks of a memory map, shared by test_memmap and the memmap
 * fuzzer. Each returns NULL when the property holds, else a static message.
 * The reference model is pointwise: the type at address x is the highest type
 * of the raw entries covering x (0 for none).
 */
#ifndef KEEL_TEST_MEMMAP_ORACLE_H
#define KEEL_TEST_MEMMAP_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memmap.h"

#define ORACLE_PAGE 4096ull

static char oracle_msg[256];

static inline uint64_t oracle_end(const struct memmap_entry *e)
{
    return e->base + e->length;
}

/* Type at x in m by brute force (works on any map, sound or not). */
static inline uint32_t oracle_type_at(const struct memmap *m, uint64_t x)
{
    uint32_t t = 0;
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->base <= x && x - e->base < e->length && e->type > t)
            t = e->type;
    }
    return t;
}

/* Structural soundness: what memmap_normalize promises. */
static inline const char *memmap_check_sound(const struct memmap *m)
{
    if (m->count > MEMMAP_MAX)
        return "count above MEMMAP_MAX";
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->length == 0)
            return "zero-length entry";
        if (e->length > UINT64_MAX - e->base)
            return "entry wraps";
        if (e->type < MEMMAP_USABLE || e->type > MEMMAP_BOOTDATA)
            return "entry of unknown type";
        if (e->type == MEMMAP_USABLE &&
            ((e->base % ORACLE_PAGE) != 0 || (e->length % ORACLE_PAGE) != 0))
            return "usable entry not page-aligned";
        if (i == 0)
            continue;
        const struct memmap_entry *p = &m->entries[i - 1];
        if (p->base >= e->base)
            return "entries not sorted";
        if (oracle_end(p) > e->base)
            return "entries overlap";
        if (oracle_end(p) == e->base && p->type == e->type)
            return "touching entries of one type not merged";
    }
    return NULL;
}

/* Whether every byte of the page holding x is usable in raw. */
static inline bool oracle_page_usable(const struct memmap *raw, uint64_t x)
{
    uint64_t p = x & ~(ORACLE_PAGE - 1);
    if (oracle_type_at(raw, p) != MEMMAP_USABLE)
        return false;
    /* The raw type is constant between boundaries: check each one inside. */
    for (unsigned i = 0; i < raw->count; i++) {
        const struct memmap_entry *e = &raw->entries[i];
        uint64_t b[2] = {e->base, oracle_end(e)};
        for (int k = 0; k < 2; k++) {
            if (b[k] > p && b[k] - p < ORACLE_PAGE && oracle_type_at(raw, b[k]) != MEMMAP_USABLE)
                return false;
        }
    }
    return true;
}

/* Compares one address. exact: no range was dropped for lack of room. */
static inline const char *oracle_point(const struct memmap *out, const struct memmap *raw,
                                       uint64_t x, bool exact)
{
    uint32_t o = oracle_type_at(out, x), r = oracle_type_at(raw, x);
    bool ok;
    if (o == MEMMAP_USABLE)
        ok = r == MEMMAP_USABLE && oracle_page_usable(raw, x);
    else if (o != 0)
        ok = o == r;
    else
        ok = !exact || r == 0 || (r == MEMMAP_USABLE && !oracle_page_usable(raw, x));
    if (ok)
        return NULL;
    snprintf(oracle_msg, sizeof(oracle_msg), "at 0x%llx: normalized type %u, raw type %u",
             (unsigned long long)x, o, r);
    return oracle_msg;
}

/* out (normalized) against raw (as given to memmap_normalize), at every
 * boundary of either and the byte before it, and at their pages. */
static inline const char *memmap_check_against_raw(const struct memmap *out,
                                                   const struct memmap *raw, bool exact)
{
    const struct memmap *maps[2] = {out, raw};
    for (int mi = 0; mi < 2; mi++) {
        for (unsigned i = 0; i < maps[mi]->count; i++) {
            const struct memmap_entry *e = &maps[mi]->entries[i];
            uint64_t pts[6] = {e->base,
                               e->base - 1,
                               oracle_end(e),
                               oracle_end(e) - 1,
                               e->base & ~(ORACLE_PAGE - 1),
                               (e->base | (ORACLE_PAGE - 1))};
            for (int k = 0; k < 6; k++) {
                const char *why = oracle_point(out, raw, pts[k], exact);
                if (why)
                    return why;
            }
        }
    }
    return NULL;
}

/* After memmap_reserve(before -> after, [lo, hi) page-widened, type): usable
 * bytes inside became type, nothing else changed. */
static inline const char *memmap_check_reserve(const struct memmap *after,
                                               const struct memmap *before, uint64_t lo,
                                               uint64_t hi, uint32_t type)
{
    const struct memmap *maps[2] = {after, before};
    for (int mi = 0; mi < 2; mi++) {
        for (unsigned i = 0; i <= maps[mi]->count; i++) {
            uint64_t pts[4];
            if (i == maps[mi]->count) {
                pts[0] = lo, pts[1] = lo - 1, pts[2] = hi, pts[3] = hi - 1;
            } else {
                const struct memmap_entry *e = &maps[mi]->entries[i];
                pts[0] = e->base, pts[1] = e->base - 1, pts[2] = oracle_end(e);
                pts[3] = oracle_end(e) - 1;
            }
            for (int k = 0; k < 4; k++) {
                uint64_t x = pts[k];
                uint32_t b = oracle_type_at(before, x), a = oracle_type_at(after, x);
                bool inside = x >= lo && x < hi;
                uint32_t want = inside && b == MEMMAP_USABLE ? type : b;
                if (a != want) {
                    snprintf(oracle_msg, sizeof(oracle_msg),
                             "reserve: at 0x%llx type %u, expected %u (was %u)",
                             (unsigned long long)x, a, want, b);
                    return oracle_msg;
                }
            }
        }
    }
    return NULL;
}

#endif
