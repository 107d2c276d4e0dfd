/*
 * Second-level address translation: the table walks behind slat.h, for
 * both formats (the entry encodings are in slat_format.c).
 *
 * Invariants kept between calls: every table other than the root holds at
 * least one present entry; table_frames counts the root and every table
 * reachable from it. Recursion follows the table levels, so it is at most
 * four deep; every loop is bounded by a range inside SLAT_GPA_LIMIT and by
 * the 512 entries of a table.
 */
#include <stddef.h>

#include "slat.h"
#include "kstring.h"
#include "slat_format.h"

/* ---- frames and entries ---- */

static uint64_t *table_ptr(const struct slat *s, uint64_t phys)
{
    return (uint64_t *)s->env.frame_ptr(s->env.ctx, phys);
}

/* Entries are read and written with single 64-bit accesses: a CPU running
 * the VM may walk the table (and, with NPT, set accessed/dirty bits in it). */
static uint64_t entry_get(const uint64_t *t, unsigned i)
{
    return ((const volatile uint64_t *)t)[i];
}

static void entry_set(uint64_t *t, unsigned i, uint64_t e)
{
    ((volatile uint64_t *)t)[i] = e;
}

/* A zeroed table frame, or 0 when the environment has none. */
static uint64_t table_alloc(struct slat *s)
{
    uint64_t phys = s->env.alloc_frame(s->env.ctx);
    if (phys == 0)
        return 0;
    memset(table_ptr(s, phys), 0, SLAT_PAGE_SIZE);
    s->table_frames++;
    return phys;
}

/* Hardware may still hold the frame in a paging-structure cache until the
 * next invalidation (SDM Vol. 3A 4.10.3, APM Vol. 2 15.16). */
static void table_free(struct slat *s, uint64_t phys)
{
    s->env.free_frame(s->env.ctx, phys);
    s->table_frames--;
    s->needs_flush = true;
}

static bool table_empty(const struct slat *s, uint64_t phys)
{
    const uint64_t *t = table_ptr(s, phys);
    for (unsigned i = 0; i < SLAT_ENTRIES; i++) {
        if (slat_fmt_present(s->format, entry_get(t, i)))
            return false;
    }
    return true;
}

/* The end of the entry (at level) that holds a, clipped to end. a < end <=
 * SLAT_GPA_LIMIT, so the sum cannot wrap. */
static uint64_t entry_end(uint64_t a, unsigned level, uint64_t end)
{
    uint64_t size = slat_level_size(level);
    uint64_t next = (a & ~(size - 1)) + size;
    return next < end ? next : end;
}

/* ---- argument checks (order documented in slat.h) ---- */

static int check_range(uint64_t gpa, uint64_t size)
{
    if ((gpa | size) & (SLAT_PAGE_SIZE - 1))
        return SLAT_EALIGN;
    if (size == 0 || size > SLAT_GPA_LIMIT || gpa > SLAT_GPA_LIMIT - size)
        return SLAT_ERANGE;
    return SLAT_OK;
}

static int check_map(uint64_t gpa, uint64_t hpa, uint64_t size)
{
    if (hpa & (SLAT_PAGE_SIZE - 1))
        return SLAT_EALIGN;
    int rc = check_range(gpa, size);
    if (rc != SLAT_OK)
        return rc;
    if (hpa > SLAT_HPA_LIMIT - size) /* size <= SLAT_GPA_LIMIT: no wrap */
        return SLAT_ERANGE;
    return SLAT_OK;
}

/* ---- walks ---- */

/* True when any page of [gpa, end) is mapped below the table at level. */
static bool range_mapped(const struct slat *s, uint64_t table, unsigned level, uint64_t gpa,
                         uint64_t end)
{
    const uint64_t *t = table_ptr(s, table);
    for (uint64_t a = gpa, next; a < end; a = next) {
        next = entry_end(a, level, end);
        uint64_t e = entry_get(t, slat_index(a, level));
        if (!slat_fmt_present(s->format, e))
            continue;
        if (slat_fmt_is_leaf(level, e) ||
            range_mapped(s, slat_fmt_addr(level, e), level - 1, a, next))
            return true;
    }
    return false;
}

/* Whether [a, next) can be one leaf at level mapping hpa. */
static bool leaf_fits(const struct slat *s, unsigned level, uint64_t a, uint64_t next, uint64_t hpa)
{
    uint64_t size = slat_level_size(level);
    if (level == 2 && !s->allow_1g)
        return false;
    if (level == 1 && !s->allow_2m)
        return false;
    return level <= SLAT_LARGE_LEVEL && next - a == size && ((a | hpa) & (size - 1)) == 0;
}

struct map_req {
    uint64_t gpa, hpa; /* the start of the whole request */
    unsigned perms;
    enum slat_memtype type;
};

/* Maps [gpa, end) below the table at level; the range holds no mapping. */
static int map_range(struct slat *s, uint64_t table, unsigned level, uint64_t gpa, uint64_t end,
                     const struct map_req *req)
{
    uint64_t *t = table_ptr(s, table);
    for (uint64_t a = gpa, next; a < end; a = next) {
        next = entry_end(a, level, end);
        unsigned i = slat_index(a, level);
        uint64_t e = entry_get(t, i);
        uint64_t hpa = req->hpa + (a - req->gpa);
        bool present = slat_fmt_present(s->format, e);
        if (!present && leaf_fits(s, level, a, next, hpa)) {
            entry_set(t, i, slat_fmt_leaf(s->format, level, hpa, req->perms, req->type));
            continue;
        }
        if (present && slat_fmt_is_leaf(level, e))
            return SLAT_EEXIST; /* excluded by range_mapped; never descend from a leaf */
        if (!present) {
            uint64_t child = table_alloc(s);
            if (child == 0)
                return SLAT_ENOMEM;
            e = slat_fmt_table(s->format, child);
            entry_set(t, i, e);
        }
        int rc = map_range(s, slat_fmt_addr(level, e), level - 1, a, next, req);
        if (rc != SLAT_OK)
            return rc;
    }
    return SLAT_OK;
}

/* Removes every leaf in [gpa, end) below the table at level, and frees the
 * tables left empty. No leaf straddles an edge of the range. */
static void unmap_range(struct slat *s, uint64_t table, unsigned level, uint64_t gpa, uint64_t end)
{
    uint64_t *t = table_ptr(s, table);
    for (uint64_t a = gpa, next; a < end; a = next) {
        next = entry_end(a, level, end);
        unsigned i = slat_index(a, level);
        uint64_t e = entry_get(t, i);
        if (!slat_fmt_present(s->format, e))
            continue;
        if (slat_fmt_is_leaf(level, e)) {
            entry_set(t, i, 0);
            s->needs_flush = true;
            continue;
        }
        uint64_t child = slat_fmt_addr(level, e);
        unmap_range(s, child, level - 1, a, next);
        if (table_empty(s, child)) {
            entry_set(t, i, 0); /* unlink before the frame goes back */
            table_free(s, child);
        }
    }
}

/* Sets perms on every leaf in [gpa, end) below the table at level. No leaf
 * straddles an edge of the range. */
static void protect_range(struct slat *s, uint64_t table, unsigned level, uint64_t gpa,
                          uint64_t end, unsigned perms)
{
    uint64_t *t = table_ptr(s, table);
    for (uint64_t a = gpa, next; a < end; a = next) {
        next = entry_end(a, level, end);
        unsigned i = slat_index(a, level);
        uint64_t e = entry_get(t, i);
        if (!slat_fmt_present(s->format, e))
            continue;
        if (!slat_fmt_is_leaf(level, e)) {
            protect_range(s, slat_fmt_addr(level, e), level - 1, a, next, perms);
            continue;
        }
        unsigned old = slat_fmt_perms(s->format, e);
        if (old == perms)
            continue;
        if (old & ~perms)
            s->needs_flush = true;
        entry_set(t, i,
                  slat_fmt_leaf(s->format, level, slat_fmt_addr(level, e), perms,
                                slat_fmt_type(s->format, e)));
    }
}

/* A table at level-1 holding the large page e (at level) as 512 smaller
 * pages of the same permissions and type; 0 when no frame is left. */
static uint64_t split_leaf(struct slat *s, unsigned level, uint64_t e)
{
    uint64_t child = table_alloc(s);
    if (child == 0)
        return 0;
    uint64_t *t = table_ptr(s, child);
    uint64_t hpa = slat_fmt_addr(level, e), step = slat_level_size(level - 1);
    unsigned perms = slat_fmt_perms(s->format, e);
    enum slat_memtype type = slat_fmt_type(s->format, e);
    for (unsigned i = 0; i < SLAT_ENTRIES; i++)
        entry_set(t, i, slat_fmt_leaf(s->format, level - 1, hpa + i * step, perms, type));
    return child;
}

/* Splits the large pages that contain addr but do not start there, so that a
 * range edge at addr falls between leaves. The translations stay the same:
 * the complete table replaces the large page in one store, no flush needed
 * (stale large-page TLB entries still translate alike). */
static int split_at(struct slat *s, uint64_t addr)
{
    if (addr == 0 || addr >= SLAT_GPA_LIMIT)
        return SLAT_OK;
    uint64_t table = s->root;
    for (unsigned level = SLAT_ROOT_LEVEL; level > 0; level--) {
        uint64_t *t = table_ptr(s, table);
        unsigned i = slat_index(addr, level);
        uint64_t e = entry_get(t, i);
        if (!slat_fmt_present(s->format, e))
            return SLAT_OK;
        if (slat_fmt_is_leaf(level, e)) {
            if ((addr & (slat_level_size(level) - 1)) == 0)
                return SLAT_OK;
            uint64_t child = split_leaf(s, level, e);
            if (child == 0)
                return SLAT_ENOMEM;
            e = slat_fmt_table(s->format, child);
            entry_set(t, i, e);
        }
        table = slat_fmt_addr(level, e);
    }
    return SLAT_OK;
}

/* Frees the table at level and every table below it. */
static void free_tree(struct slat *s, uint64_t table, unsigned level)
{
    const uint64_t *t = table_ptr(s, table);
    for (unsigned i = 0; level > 0 && i < SLAT_ENTRIES; i++) {
        uint64_t e = entry_get(t, i);
        if (slat_fmt_present(s->format, e) && !slat_fmt_is_leaf(level, e))
            free_tree(s, slat_fmt_addr(level, e), level - 1);
    }
    table_free(s, table);
}

/* ---- the interface ---- */

int slat_init(struct slat *s, enum slat_format format, bool allow_2m, bool allow_1g,
              const struct slat_env *env)
{
    memset(s, 0, sizeof(*s));
    if (format != SLAT_EPT && format != SLAT_NPT)
        return SLAT_EINVAL;
    s->format = format;
    s->allow_2m = allow_2m;
    s->allow_1g = allow_1g;
    s->env = *env;
    s->root = table_alloc(s);
    return s->root != 0 ? SLAT_OK : SLAT_ENOMEM;
}

void slat_destroy(struct slat *s)
{
    if (s->root != 0)
        free_tree(s, s->root, SLAT_ROOT_LEVEL);
    s->root = 0;
}

/* Checks the arguments (slat.h), then that the range is free, then maps;
 * on ENOMEM removes what it mapped and the tables it created. */
int slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
             enum slat_memtype type)
{
    int rc = check_map(gpa, hpa, size);
    if (rc != SLAT_OK)
        return rc;
    if (!slat_fmt_perms_ok(perms) || !slat_fmt_type_ok(s->format, type))
        return SLAT_EINVAL;
    if (range_mapped(s, s->root, SLAT_ROOT_LEVEL, gpa, gpa + size))
        return SLAT_EEXIST;
    const struct map_req req = {.gpa = gpa, .hpa = hpa, .perms = perms, .type = type};
    rc = map_range(s, s->root, SLAT_ROOT_LEVEL, gpa, gpa + size, &req);
    if (rc != SLAT_OK) /* everything in the range is this call's */
        unmap_range(s, s->root, SLAT_ROOT_LEVEL, gpa, gpa + size);
    return rc;
}

static int split_edges(struct slat *s, uint64_t gpa, uint64_t end)
{
    int rc = split_at(s, gpa);
    return rc != SLAT_OK ? rc : split_at(s, end);
}

/* Checks the range (slat.h); splits at its edges, then removes. */
int slat_unmap(struct slat *s, uint64_t gpa, uint64_t size)
{
    int rc = check_range(gpa, size);
    if (rc == SLAT_OK)
        rc = split_edges(s, gpa, gpa + size);
    if (rc == SLAT_OK)
        unmap_range(s, s->root, SLAT_ROOT_LEVEL, gpa, gpa + size);
    return rc;
}

/* Checks the range and perms (slat.h); splits at its edges, then changes. */
int slat_protect(struct slat *s, uint64_t gpa, uint64_t size, unsigned perms)
{
    int rc = check_range(gpa, size);
    if (rc != SLAT_OK)
        return rc;
    if (perms == 0)
        return slat_unmap(s, gpa, size);
    if (!slat_fmt_perms_ok(perms))
        return SLAT_EINVAL;
    rc = split_edges(s, gpa, gpa + size);
    if (rc == SLAT_OK)
        protect_range(s, s->root, SLAT_ROOT_LEVEL, gpa, gpa + size, perms);
    return rc;
}

bool slat_lookup(const struct slat *s, uint64_t gpa, uint64_t *hpa, unsigned *perms,
                 enum slat_memtype *type, uint64_t *page_size)
{
    if (gpa >= SLAT_GPA_LIMIT || s->root == 0)
        return false;
    uint64_t table = s->root;
    for (unsigned level = SLAT_ROOT_LEVEL;; level--) {
        uint64_t e = entry_get(table_ptr(s, table), slat_index(gpa, level));
        if (!slat_fmt_present(s->format, e))
            return false;
        if (!slat_fmt_is_leaf(level, e)) {
            table = slat_fmt_addr(level, e);
            continue; /* level 0 entries are always leaves: level stays > 0 */
        }
        uint64_t size = slat_level_size(level);
        if (hpa != NULL)
            *hpa = slat_fmt_addr(level, e) + (gpa & (size - 1));
        if (perms != NULL)
            *perms = slat_fmt_perms(s->format, e);
        if (type != NULL)
            *type = slat_fmt_type(s->format, e);
        if (page_size != NULL)
            *page_size = size;
        return true;
    }
}

uint64_t slat_hardware_root(const struct slat *s)
{
    return slat_fmt_root(s->format, s->root);
}
