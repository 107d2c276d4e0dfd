/*
 * The physical memory map (see memmap.h): the loader's raw list made sound,
 * then carved up by the core's own reservations. Overlap resolution works on
 * elementary intervals (between any two consecutive entry boundaries the
 * covering type is constant), O(n^2) for n <= MEMMAP_MAX.
 */
#include "memmap.h"
#include "kstring.h"

#define PAGE_MASK (MEMMAP_PAGE - 1)

/* Repairs counted by memmap_normalize(), reported once each. */
struct repairs {
    unsigned unsorted;
    unsigned overlapping;
    unsigned unaligned;
    unsigned dropped;
};

/* Output being built: a bounded list that merges a range into its
 * predecessor when they touch and share a type. */
struct builder {
    unsigned count;
    unsigned dropped;
    struct memmap_entry e[MEMMAP_MAX];
};

static uint64_t entry_end(const struct memmap_entry *e)
{
    return e->base + e->length; /* entries never wrap: add_raw and reserve ensure it */
}

static uint64_t page_up(uint64_t x)
{
    return x > UINT64_MAX - PAGE_MASK ? UINT64_MAX & ~PAGE_MASK : (x + PAGE_MASK) & ~PAGE_MASK;
}

static uint64_t page_down(uint64_t x)
{
    return x & ~PAGE_MASK;
}

void memmap_init(struct memmap *m)
{
    memset(m, 0, sizeof(*m));
}

/* Checks: zero length and wrap past 2^64 (dropped), type outside 1..5
 * (stored as RESERVED), a full table (dropped, overflowed set, reported once). */
void memmap_add_raw(struct memmap *m, uint64_t base, uint64_t length, uint32_t loader_type,
                    struct diag *d)
{
    if (length == 0) {
        diag_add(d, "memory map: empty entry at 0x%llx dropped", (unsigned long long)base);
        return;
    }
    if (length > UINT64_MAX - base) {
        diag_add(d, "memory map: entry 0x%llx+0x%llx wraps past 2^64; dropped",
                 (unsigned long long)base, (unsigned long long)length);
        return;
    }
    if (loader_type < MEMMAP_USABLE || loader_type > MEMMAP_BAD) {
        diag_add(d, "memory map: entry 0x%llx+0x%llx has unknown type %u; taken as reserved",
                 (unsigned long long)base, (unsigned long long)length, loader_type);
        loader_type = MEMMAP_RESERVED;
    }
    if (m->count >= MEMMAP_MAX) {
        if (!m->overflowed)
            diag_add(d, "memory map: more than %u entries; the rest are ignored", MEMMAP_MAX);
        m->overflowed = true;
        return;
    }
    m->entries[m->count].base = base;
    m->entries[m->count].length = length;
    m->entries[m->count].type = loader_type;
    m->count++;
}

static void builder_emit(struct builder *b, uint64_t base, uint64_t end, uint32_t type)
{
    if (end <= base)
        return;
    if (b->count > 0) {
        struct memmap_entry *last = &b->e[b->count - 1];
        if (last->type == type && entry_end(last) == base) {
            last->length += end - base;
            return;
        }
    }
    if (b->count >= MEMMAP_MAX) {
        b->dropped++;
        return;
    }
    b->e[b->count].base = base;
    b->e[b->count].length = end - base;
    b->e[b->count].type = type;
    b->count++;
}

static void builder_store(const struct builder *b, struct memmap *m)
{
    for (unsigned i = 0; i < b->count; i++)
        m->entries[i] = b->e[i];
    m->count = b->count;
}

/* Insertion sort by base (stable, n <= MEMMAP_MAX); returns how many
 * entries were out of order. */
static unsigned sort_by_base(struct memmap *m)
{
    unsigned moved = 0;
    for (unsigned i = 1; i < m->count; i++) {
        struct memmap_entry key = m->entries[i];
        unsigned j = i;
        while (j > 0 && m->entries[j - 1].base > key.base) {
            m->entries[j] = m->entries[j - 1];
            j--;
        }
        if (j != i)
            moved++;
        m->entries[j] = key;
    }
    return moved;
}

/* Makes every stored entry well-formed in case the struct was filled by hand:
 * no zero length, no wrap, a known type. */
static void sanitize(struct memmap *m)
{
    unsigned out = 0;
    if (m->count > MEMMAP_MAX)
        m->count = MEMMAP_MAX;
    for (unsigned i = 0; i < m->count; i++) {
        struct memmap_entry e = m->entries[i];
        if (e.length > UINT64_MAX - e.base)
            e.length = UINT64_MAX - e.base;
        if (e.length == 0)
            continue;
        if (e.type < MEMMAP_USABLE || e.type > MEMMAP_BOOTDATA)
            e.type = MEMMAP_RESERVED;
        m->entries[out++] = e;
    }
    m->count = out;
}

static unsigned count_overlapping(const struct memmap *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->count; i++) {
        bool hit = false;
        for (unsigned j = 0; j < m->count && !hit; j++)
            hit = j != i && m->entries[j].base < entry_end(&m->entries[i]) &&
                  m->entries[i].base < entry_end(&m->entries[j]);
        n += hit;
    }
    return n;
}

/* Whether some entry of another type starts or ends exactly at x: then a
 * usable range's unaligned edge at x is the firmware splitting a page, as
 * with the EBDA at 0x9fc00, and the partial page going to the other type is
 * expected, not a repair. */
static bool boundary_of_other_type(const struct memmap *m, uint64_t x)
{
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->type != MEMMAP_USABLE && (e->base == x || entry_end(e) == x))
            return true;
    }
    return false;
}

/* Usable entries with an unaligned edge that no other entry accounts for. */
static unsigned count_unaligned(const struct memmap *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        uint64_t edge[2] = {e->base, entry_end(e)};
        bool odd = false;
        for (int k = 0; k < 2 && e->type == MEMMAP_USABLE; k++)
            odd |= (edge[k] & PAGE_MASK) != 0 && !boundary_of_other_type(m, edge[k]);
        n += odd;
    }
    return n;
}

/* The most restrictive type covering address x, or 0 for a hole. */
static uint32_t type_at(const struct memmap *m, uint64_t x)
{
    uint32_t t = 0;
    for (unsigned i = 0; i < m->count; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->base <= x && x < entry_end(e) && e->type > t)
            t = e->type;
    }
    return t;
}

/* The smallest entry boundary strictly above x, or 0 when there is none. */
static uint64_t next_boundary(const struct memmap *m, uint64_t x)
{
    uint64_t best = 0;
    for (unsigned i = 0; i < m->count; i++) {
        uint64_t b = m->entries[i].base, e = entry_end(&m->entries[i]);
        if (b > x && (best == 0 || b < best))
            best = b;
        if (e > x && (best == 0 || e < best))
            best = e;
    }
    return best;
}

/* Resolves overlaps (highest type wins) and merges touching ranges of one
 * type, into b. m must be sorted and sanitized. */
static void resolve_overlaps(const struct memmap *m, struct builder *b)
{
    if (m->count == 0)
        return;
    uint64_t x = m->entries[0].base;
    for (unsigned steps = 0; steps <= 2 * MEMMAP_MAX; steps++) {
        uint64_t next = next_boundary(m, x);
        if (next == 0)
            break;
        uint32_t t = type_at(m, x);
        if (t != 0)
            builder_emit(b, x, next, t);
        x = next;
    }
}

/* Shrinks usable ranges inward to page boundaries, dropping those that
 * vanish. */
static void trim_usable(struct builder *b)
{
    unsigned out = 0;
    for (unsigned i = 0; i < b->count; i++) {
        struct memmap_entry e = b->e[i];
        if (e.type == MEMMAP_USABLE) {
            uint64_t lo = page_up(e.base), hi = page_down(entry_end(&e));
            if (hi <= lo)
                continue;
            e.base = lo;
            e.length = hi - lo;
        }
        b->e[out++] = e;
    }
    b->count = out;
}

static void report(struct diag *d, const struct repairs *r)
{
    if (r->unsorted)
        diag_add(d, "memory map: %u entries out of order; sorted", r->unsorted);
    if (r->overlapping)
        diag_add(d, "memory map: %u overlapping entries; the more restrictive type was kept",
                 r->overlapping);
    if (r->unaligned)
        diag_add(d, "memory map: %u usable entries have unaligned edges; partial pages dropped",
                 r->unaligned);
    if (r->dropped)
        diag_add(d, "memory map: %u ranges did not fit after splitting overlaps; dropped",
                 r->dropped);
}

void memmap_normalize(struct memmap *m, struct diag *d)
{
    struct repairs r = {0};
    struct builder b; /* ~3.9 KiB of stack; see memmap.h's MEMMAP_MAX */
    b.count = b.dropped = 0;

    sanitize(m);
    r.unsorted = sort_by_base(m);
    r.overlapping = count_overlapping(m);
    resolve_overlaps(m, &b);
    r.unaligned = count_unaligned(m);
    r.dropped = b.dropped;
    trim_usable(&b);
    builder_store(&b, m);
    report(d, &r);
}

/* Widens [base, base+length) outward to pages (saturating at the top of the
 * address space) and rebuilds the map into a scratch list so that a full map
 * leaves m untouched. Checks: a type that is not a reservation (false), zero
 * length (nothing to do, true), overflow of base + length (saturates). */
bool memmap_reserve(struct memmap *m, uint64_t base, uint64_t length, enum memmap_type type)
{
    if (type <= MEMMAP_USABLE || type > MEMMAP_BOOTDATA)
        return false;
    if (length == 0)
        return true;
    uint64_t lo = page_down(base);
    uint64_t hi = length > UINT64_MAX - base ? UINT64_MAX : base + length;
    hi = page_up(hi);
    if (hi <= lo)
        hi = UINT64_MAX; /* the range reaches the last page */

    struct builder b;
    b.count = b.dropped = 0;
    for (unsigned i = 0; i < m->count && i < MEMMAP_MAX; i++) {
        const struct memmap_entry *e = &m->entries[i];
        uint64_t s = e->base, t = entry_end(e);
        if (e->type != MEMMAP_USABLE || t <= lo || s >= hi) {
            builder_emit(&b, s, t, e->type);
            continue;
        }
        uint64_t cs = s > lo ? s : lo, ct = t < hi ? t : hi;
        builder_emit(&b, s, cs, MEMMAP_USABLE);
        builder_emit(&b, cs, ct, (uint32_t)type);
        builder_emit(&b, ct, t, MEMMAP_USABLE);
    }
    if (b.dropped)
        return false;
    builder_store(&b, m);
    return true;
}

uint64_t memmap_usable_bytes(const struct memmap *m)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < m->count && i < MEMMAP_MAX; i++) {
        if (m->entries[i].type != MEMMAP_USABLE)
            continue;
        uint64_t len = m->entries[i].length;
        sum = len > UINT64_MAX - sum ? UINT64_MAX : sum + len;
    }
    return sum;
}

uint64_t memmap_highest_address(const struct memmap *m)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < m->count && i < MEMMAP_MAX; i++) {
        const struct memmap_entry *e = &m->entries[i];
        uint64_t end = e->length > UINT64_MAX - e->base ? UINT64_MAX : entry_end(e);
        if (end > top)
            top = end;
    }
    return top;
}

/* Lowest fit. Address 0 is never returned (it means "none"), so a range
 * starting at 0 is searched from its second page. */
uint64_t memmap_find_free(const struct memmap *m, uint64_t length, uint64_t min, uint64_t max)
{
    if (length == 0)
        return 0;
    for (unsigned i = 0; i < m->count && i < MEMMAP_MAX; i++) {
        const struct memmap_entry *e = &m->entries[i];
        if (e->type != MEMMAP_USABLE || e->length > UINT64_MAX - e->base)
            continue;
        uint64_t lo = e->base > min ? e->base : min;
        uint64_t hi = entry_end(e) < max ? entry_end(e) : max;
        lo = page_up(lo);
        if (lo == 0)
            lo = MEMMAP_PAGE;
        hi = page_down(hi);
        if (lo < hi && hi - lo >= length)
            return lo;
    }
    return 0;
}

const char *memmap_type_name(uint32_t type)
{
    static const char *const names[] = {
        [MEMMAP_USABLE] = "usable",
        [MEMMAP_RESERVED] = "reserved",
        [MEMMAP_ACPI_RECLAIMABLE] = "ACPI",
        [MEMMAP_ACPI_NVS] = "ACPI NVS",
        [MEMMAP_BAD] = "bad",
        [MEMMAP_KERNEL] = "kernel",
        [MEMMAP_MODULE] = "module",
        [MEMMAP_BOOTDATA] = "boot data",
    };
    if (type >= sizeof(names) / sizeof(names[0]) || names[type] == NULL)
        return "unknown";
    return names[type];
}
