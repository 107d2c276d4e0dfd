/*
 * Host unit tests of kernel/ept/ (slat.c, slat_format.c): raw EPT and NPT
 * entries decoded by hand from the SDM/APM layouts, EPTP and nCR3, the page
 * size chosen, splits, argument checks, ENOMEM at every allocation, and long
 * random runs of map/unmap/protect for both formats against a model of the
 * first 8 GiB, one entry per 4 KiB page. Frames come from a malloc'ed arena
 * that catches leaks, double frees and use of freed frames.
 * SLAT_SEED=<n> in the environment changes the random seed.
 */
#include "ept/slat.h"
#include "check.h"

#define K4        UINT64_C(0x1000)
#define M2        UINT64_C(0x200000)
#define G1        UINT64_C(0x40000000)
#define ADDR_4K   UINT64_C(0x000ffffffffff000) /* bits 51:12 */
#define WIN       (8 * G1)                     /* the model's window of guest-physical space */
#define HPA_SPAN  (UINT64_C(1) << 40)          /* random host addresses stay below */
#define UNLIMITED UINT64_MAX

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- the environment: an arena of frames at a made-up physical base ---- */

#define ARENA_BASE 0x0000123400000000ull

struct arena {
    uint8_t *mem, *used;
    uint32_t *free_list;
    uint32_t nframes, nfree;
    uint64_t outstanding, budget, refused, errors;
    char why[160];
};

static void arena_error(struct arena *a, const char *what, uint64_t phys)
{
    if (a->errors++ == 0)
        snprintf(a->why, sizeof(a->why), "%s 0x%" PRIx64, what, phys);
}

/* The frame index of phys, or nframes when phys is no frame of the arena. */
static uint32_t arena_index(const struct arena *a, uint64_t phys)
{
    if (phys < ARENA_BASE || (phys & (K4 - 1)) || (phys - ARENA_BASE) / K4 >= a->nframes)
        return a->nframes;
    return (uint32_t)((phys - ARENA_BASE) / K4);
}

static uint64_t env_alloc(void *ctx)
{
    struct arena *a = ctx;
    if (a->budget == 0 || a->nfree == 0) {
        a->refused++;
        return 0;
    }
    if (a->budget != UNLIMITED)
        a->budget--;
    uint32_t k = (uint32_t)(rng() % a->nfree), f = a->free_list[k];
    a->free_list[k] = a->free_list[--a->nfree];
    a->used[f] = 1;
    a->outstanding++;
    memset(a->mem + (uint64_t)f * K4, 0, K4);
    return ARENA_BASE + (uint64_t)f * K4;
}

static void env_free(void *ctx, uint64_t phys)
{
    struct arena *a = ctx;
    uint32_t f = arena_index(a, phys);
    if (f == a->nframes || !a->used[f]) {
        arena_error(a, "free of a frame not allocated:", phys);
        return;
    }
    a->used[f] = 0;
    a->outstanding--;
    memset(a->mem + (uint64_t)f * K4, 0xdb, K4); /* poison: a stale table reads as junk */
    a->free_list[a->nfree++] = f;
}

static void *env_ptr(void *ctx, uint64_t phys)
{
    struct arena *a = ctx;
    uint32_t f = arena_index(a, phys);
    if (f == a->nframes || !a->used[f]) {
        arena_error(a, "frame_ptr of a frame not allocated:", phys);
        return NULL; /* a crash the sanitizer reports */
    }
    return a->mem + (uint64_t)f * K4;
}

/* ---- the harness: a table, its arena and (optionally) the model ---- */

struct mpage {
    uint64_t hpfn; /* host page number */
    uint8_t perms, type;
};

struct h {
    struct arena a;
    struct slat s;
    enum slat_format f;
    struct mpage *m; /* WIN / K4 pages, or NULL */
    uint32_t *chunk; /* mapped pages per 2 MiB of the window, to skip empty ones */
    uint64_t mapped; /* pages mapped in the model */
};

static bool h_init(struct h *h, enum slat_format f, bool a2m, bool a1g, uint32_t nframes,
                   bool model)
{
    memset(h, 0, sizeof(*h));
    h->f = f;
    h->a.nframes = h->a.nfree = nframes;
    h->a.mem = malloc((size_t)nframes * K4);
    h->a.used = calloc(nframes, 1);
    h->a.free_list = malloc(nframes * sizeof(uint32_t));
    h->m = model ? calloc(WIN / K4, sizeof(struct mpage)) : NULL;
    h->chunk = calloc(WIN / M2, sizeof(uint32_t));
    if (!h->a.mem || !h->a.used || !h->a.free_list || !h->chunk || (model && !h->m))
        abort();
    for (uint32_t i = 0; i < nframes; i++)
        h->a.free_list[i] = i;
    h->a.budget = UNLIMITED;
    const struct slat_env env = {env_alloc, env_free, env_ptr, &h->a};
    return CHECK_EQ(slat_init(&h->s, f, a2m, a1g, &env), SLAT_OK) && CHECK_EQ(h->s.table_frames, 1);
}

/* Table frames agree with the arena, and the arena saw no misuse. */
static bool h_frames_ok(struct h *h)
{
    if (!CHECK_MSG(h->a.errors == 0, "arena: %s", h->a.why))
        return false;
    return CHECK_EQ(h->s.table_frames, h->a.outstanding);
}

static void h_fini(struct h *h)
{
    h_frames_ok(h);
    slat_destroy(&h->s);
    CHECK_EQ(h->a.outstanding, 0);
    CHECK_EQ(h->s.table_frames, 0);
    slat_destroy(&h->s); /* twice is harmless */
    CHECK_MSG(h->a.errors == 0, "arena: %s", h->a.why);
    free(h->a.mem);
    free(h->a.used);
    free(h->a.free_list);
    free(h->m);
    free(h->chunk);
}

/* ---- the model ---- */

static bool perms_ok(unsigned p)
{
    return (p & ~SLAT_RWX) == 0 && (p & SLAT_READ);
}

static bool type_ok(enum slat_format f, unsigned t)
{
    return t == SLAT_MT_UC || t == SLAT_MT_WT || t == SLAT_MT_WB ||
           (f == SLAT_EPT && (t == SLAT_MT_WC || t == SLAT_MT_WP));
}

/* The first page at or after p, below end, in a 2 MiB chunk with a mapped page. */
static uint64_t next_mapped(const struct h *h, uint64_t p, uint64_t end)
{
    const uint64_t per_chunk = M2 / K4;
    while (p < end && h->chunk[p / per_chunk] == 0)
        p = (p / per_chunk + 1) * per_chunk;
    return p < end ? p : end;
}

enum op_kind { OP_MAP, OP_UNMAP, OP_PROTECT };

struct op {
    enum op_kind kind;
    uint64_t gpa, hpa, size;
    unsigned perms, type;
};

/* The code slat.h promises, from the arguments and the model alone. */
static int predict(const struct h *h, const struct op *o)
{
    uint64_t hpa = o->kind == OP_MAP ? o->hpa : 0;
    if ((o->gpa | hpa | o->size) & (K4 - 1))
        return SLAT_EALIGN;
    if (o->size == 0 || o->size > SLAT_GPA_LIMIT || o->gpa > SLAT_GPA_LIMIT - o->size)
        return SLAT_ERANGE;
    if (o->kind == OP_MAP && hpa > SLAT_HPA_LIMIT - o->size)
        return SLAT_ERANGE;
    if (o->kind == OP_MAP && (!perms_ok(o->perms) || !type_ok(h->f, o->type)))
        return SLAT_EINVAL;
    if (o->kind == OP_PROTECT && o->perms != 0 && !perms_ok(o->perms))
        return SLAT_EINVAL;
    const uint64_t end = (o->gpa + o->size) / K4;
    for (uint64_t p = next_mapped(h, o->gpa / K4, end); o->kind == OP_MAP && p < end;
         p = next_mapped(h, p + 1, end)) {
        if (h->m[p].perms != 0)
            return SLAT_EEXIST;
    }
    return SLAT_OK;
}

/* Whether a successful o removes a translation or a permission. */
static bool predict_flush(const struct h *h, const struct op *o)
{
    const uint64_t end = (o->gpa + o->size) / K4;
    for (uint64_t p = next_mapped(h, o->gpa / K4, end); o->kind != OP_MAP && p < end;
         p = next_mapped(h, p + 1, end)) {
        unsigned old = h->m[p].perms, now = o->kind == OP_UNMAP ? 0 : o->perms;
        if (old & ~now)
            return true;
    }
    return false;
}

static void model_apply(struct h *h, const struct op *o)
{
    unsigned now = o->kind == OP_UNMAP ? 0 : o->perms;
    const uint64_t first = o->gpa / K4, end = (o->gpa + o->size) / K4;
    for (uint64_t p = o->kind == OP_MAP ? first : next_mapped(h, first, end); p < end;
         p = o->kind == OP_MAP ? p + 1 : next_mapped(h, p + 1, end)) {
        struct mpage *m = &h->m[p];
        bool was = m->perms != 0;
        if (o->kind == OP_MAP)
            *m = (struct mpage){o->hpa / K4 + (p - first), (uint8_t)o->perms, (uint8_t)o->type};
        else if (now == 0)
            *m = (struct mpage){0, 0, 0};
        else if (was)
            m->perms = (uint8_t)now;
        int delta = (m->perms != 0) - was;
        h->mapped += (uint64_t)(int64_t)delta;
        h->chunk[p / (M2 / K4)] += (uint32_t)delta;
    }
}

static int do_op(struct h *h, const struct op *o)
{
    switch (o->kind) {
    case OP_MAP:
        return slat_map(&h->s, o->gpa, o->hpa, o->size, o->perms, (enum slat_memtype)o->type);
    case OP_UNMAP:
        return slat_unmap(&h->s, o->gpa, o->size);
    case OP_PROTECT:
        return slat_protect(&h->s, o->gpa, o->size, o->perms);
    }
    return 1;
}

/* Runs o; on success the model follows. */
static int h_do(struct h *h, enum op_kind kind, uint64_t gpa, uint64_t hpa, uint64_t size,
                unsigned perms, unsigned type)
{
    const struct op o = {kind, gpa, hpa, size, perms, type};
    int rc = do_op(h, &o);
    if (rc == SLAT_OK && h->m != NULL && gpa + size <= WIN)
        model_apply(h, &o);
    return rc;
}

static int h_map(struct h *h, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
                 unsigned type)
{
    return h_do(h, OP_MAP, gpa, hpa, size, perms, type);
}

static int h_unmap(struct h *h, uint64_t gpa, uint64_t size)
{
    return h_do(h, OP_UNMAP, gpa, 0, size, 0, 0);
}

static int h_protect(struct h *h, uint64_t gpa, uint64_t size, unsigned perms)
{
    return h_do(h, OP_PROTECT, gpa, 0, size, perms, 0);
}

/* ---- lookups against the model ---- */

static bool page_size_ok(const struct h *h, uint64_t ps)
{
    return ps == K4 || (ps == M2 && h->s.allow_2m) || (ps == G1 && h->s.allow_1g);
}

/* The model's page at gpa (all zero outside the window). */
static struct mpage model_at(const struct h *h, uint64_t gpa)
{
    return gpa < WIN ? h->m[gpa / K4] : (struct mpage){0, 0, 0};
}

/* The model maps gpa + k pages as it maps gpa, shifted by k pages. */
static bool model_follows(const struct h *h, uint64_t gpa, struct mpage m, int64_t k)
{
    struct mpage o = model_at(h, gpa + (uint64_t)k * K4);
    return o.perms == m.perms && o.type == m.type && o.hpfn == m.hpfn + k;
}

/* slat_lookup(gpa) agrees with the model, and the model maps the first and
 * last page of the leaf it reports alike. */
static bool check_lookup(struct h *h, uint64_t gpa)
{
    uint64_t hpa = 0, ps = 0;
    unsigned perms = 0;
    enum slat_memtype type = SLAT_MT_UC;
    bool found = slat_lookup(&h->s, gpa, &hpa, &perms, &type, &ps);
    struct mpage m = model_at(h, gpa);
    if (m.perms == 0)
        return CHECK_MSG(!found, "gpa 0x%" PRIx64 ": mapped, the model says not", gpa);
    if (!CHECK_MSG(found, "gpa 0x%" PRIx64 ": unmapped, the model maps it", gpa))
        return false;
    uint64_t want = (uint64_t)m.hpfn * K4 + (gpa & (K4 - 1));
    if (!CHECK_MSG(hpa == want && perms == m.perms && type == m.type && page_size_ok(h, ps),
                   "gpa 0x%" PRIx64 ": hpa 0x%" PRIx64 " perms %u type %u size 0x%" PRIx64
                   "; model hpa 0x%" PRIx64 " perms %u type %u",
                   gpa, hpa, perms, type, ps, want, m.perms, m.type))
        return false;
    uint64_t page = gpa & ~(K4 - 1), first = gpa & ~(ps - 1), last = first + ps - K4;
    return CHECK_MSG(model_follows(h, page, m, -(int64_t)((page - first) / K4)) &&
                         model_follows(h, page, m, (int64_t)((last - page) / K4)),
                     "gpa 0x%" PRIx64 ": the 0x%" PRIx64 " leaf maps what the model does not", gpa,
                     ps);
}

/* Lookups at the edges of o, the large-page boundaries around them, random
 * pages of the window and random addresses beyond it. */
static void check_around(struct h *h, const struct op *o)
{
    const uint64_t edges[2] = {o->gpa, o->gpa + o->size}, aligns[3] = {K4, M2, G1};
    for (int e = 0; e < 2; e++) {
        for (int a = 0; a < 3; a++) {
            uint64_t b = edges[e] & ~(aligns[a] - 1);
            check_lookup(h, b + (rng() & (K4 - 1)));
            check_lookup(h, b - K4 + (rng() & (K4 - 1)));
        }
    }
    for (int i = 0; i < 24; i++)
        check_lookup(h, rng() % WIN);
    check_lookup(h, rng() % SLAT_GPA_LIMIT);
    check_lookup(h, rng());
}

/* ---- the whole tree, decoded by hand ---- */

struct decoded {
    bool present, leaf;
    uint64_t addr;
    unsigned perms, type;
    const char *bad; /* the layout rule the entry breaks */
};

static uint64_t level_bytes(unsigned level)
{
    return 1ull << (12 + 9 * level);
}

/* An EPT entry (SDM Vol. 3C 29.3.2, tables 29-1..29-6). */
static struct decoded decode_ept(unsigned level, uint64_t e)
{
    struct decoded d = {.present = (e & 7) != 0};
    if (!d.present) {
        d.bad = e != 0 ? "not-present entry not zero" : NULL;
        return d;
    }
    if ((e >> 52) != 0 || (e & 0xf00) != 0)
        d.bad = "bits 63:52 or 11:8 set";
    d.leaf = level == 0 || (level <= 2 && (e & 0x80));
    d.addr = e & ADDR_4K;
    if (!d.leaf) {
        if ((e & 0xff) != 7) /* RWX, bits 7:3 reserved */
            d.bad = "table entry: bits 7:0 not 0x07";
        return d;
    }
    if (d.addr & (level_bytes(level) - 1))
        d.bad = "large page: reserved address bits set";
    d.perms = (unsigned)(e & 7);
    d.type = (unsigned)(e >> 3) & 7; /* bits 5:3 */
    if (!perms_ok(d.perms) || !type_ok(SLAT_EPT, d.type) || (e & 0x40))
        d.bad = "leaf: no read, bad memory type or ignore-PAT set";
    return d;
}

/* An NPT entry: long-mode PML4E/PDPE/PDE/PTE (APM Vol. 2 5.3.3-5.3.5). */
static struct decoded decode_npt(unsigned level, uint64_t e)
{
    struct decoded d = {.present = (e & 1) != 0};
    if (!d.present) {
        d.bad = e != 0 ? "not-present entry not zero" : NULL;
        return d;
    }
    if (((e >> 52) & 0x7ff) != 0 || (e & 0xf60) != 0 || !(e & 4))
        d.bad = "bits 62:52, 11:8 or A/D set, or U/S clear";
    d.leaf = level == 0 || (level <= 2 && (e & 0x80));
    d.addr = e & ADDR_4K;
    if (!d.leaf) {
        if ((e & 0xfff) != 7 || (e >> 63)) /* P, R/W, U/S; no NX */
            d.bad = "table entry: not P|RW|US";
        return d;
    }
    if ((level == 0 && (e & 0x80)) || (d.addr & (level_bytes(level) - 1)))
        d.bad = "PAT bit or reserved address bits set";
    d.perms = SLAT_READ | ((e & 2) ? SLAT_WRITE : 0) | ((e >> 63) ? 0 : SLAT_EXEC);
    unsigned pcd_pwt = (unsigned)(e >> 3) & 3; /* default PAT: 0 WB, 1 WT, 3 UC */
    d.type = pcd_pwt == 0 ? SLAT_MT_WB : pcd_pwt == 1 ? SLAT_MT_WT : SLAT_MT_UC;
    if (pcd_pwt == 2)
        d.bad = "PCD without PWT (UC-)";
    return d;
}

struct walk {
    struct h *h;
    uint8_t *seen; /* per arena frame */
    uint64_t tables, pages, leaves[3];
    char why[240];
};

static void walk_fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void walk_fail(struct walk *w, const char *fmt, ...)
{
    if (w->why[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
}

static void walk_leaf(struct walk *w, uint64_t gpa, unsigned level, const struct decoded *d)
{
    const struct h *h = w->h;
    uint64_t n = 1ull << (9 * level);
    if (!page_size_ok(h, level_bytes(level)) || gpa + level_bytes(level) > WIN) {
        walk_fail(w, "leaf of 0x%" PRIx64 " at gpa 0x%" PRIx64 " not allowed", level_bytes(level),
                  gpa);
        return;
    }
    for (uint64_t k = 0; k < n; k++) {
        struct mpage m = h->m[gpa / K4 + k];
        if (m.perms != d->perms || m.type != d->type || m.hpfn != d->addr / K4 + k) {
            walk_fail(w,
                      "gpa 0x%" PRIx64 ": table maps 0x%" PRIx64 " perms %u type %u; model "
                      "0x%" PRIx64 " perms %u type %u",
                      gpa + k * K4, d->addr + k * K4, d->perms, d->type, (uint64_t)m.hpfn * K4,
                      m.perms, m.type);
            return;
        }
    }
    w->pages += n;
    w->leaves[level]++;
}

static void walk_table(struct walk *w, uint64_t phys, unsigned level, uint64_t base)
{
    struct arena *a = &w->h->a;
    uint32_t f = arena_index(a, phys);
    if (f == a->nframes || !a->used[f] || w->seen[f]) {
        walk_fail(w, "table 0x%" PRIx64 " not allocated or reached twice", phys);
        return;
    }
    w->seen[f] = 1;
    w->tables++;
    const uint64_t *t = (const uint64_t *)(a->mem + (uint64_t)f * K4);
    unsigned present = 0;
    for (unsigned i = 0; i < 512 && w->why[0] == '\0'; i++) {
        uint64_t gpa = base + i * level_bytes(level);
        struct decoded d = w->h->f == SLAT_EPT ? decode_ept(level, t[i]) : decode_npt(level, t[i]);
        if (d.bad != NULL)
            walk_fail(w, "level %u entry %u (gpa 0x%" PRIx64 "): %s: 0x%016" PRIx64, level, i, gpa,
                      d.bad, t[i]);
        else if (d.present && d.leaf)
            walk_leaf(w, gpa, level, &d);
        else if (d.present)
            walk_table(w, d.addr, level - 1, gpa);
        present += d.present;
    }
    if (level < 3 && present == 0)
        walk_fail(w, "empty table at level %u, gpa 0x%" PRIx64, level, base);
}

/* Every entry well-formed, every leaf as the model says, every mapped page of
 * the model in the table, no empty table, table_frames all reachable. Adds
 * the leaves seen per size to leaves (when not NULL). */
static void check_tree(struct h *h, uint64_t *leaves)
{
    struct walk w = {.h = h, .seen = calloc(h->a.nframes, 1)};
    if (w.seen == NULL)
        abort();
    walk_table(&w, h->s.root, 3, 0);
    free(w.seen);
    CHECK_MSG(w.why[0] == '\0', "%s", w.why);
    CHECK_EQ(w.tables, h->s.table_frames);
    CHECK_EQ(w.pages, h->mapped);
    h_frames_ok(h);
    for (int i = 0; leaves != NULL && i < 3; i++)
        leaves[i] += w.leaves[i];
}

/* Entry i of the table at phys. */
static uint64_t raw(struct h *h, uint64_t phys, unsigned i)
{
    const uint64_t *t = env_ptr(&h->a, phys & ADDR_4K);
    return t != NULL ? t[i] : 0;
}

static unsigned count_present(struct h *h, uint64_t phys)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 512; i++)
        n += raw(h, phys, i) != 0;
    return n;
}

/* Looks up gpa and compares what the table says with what is expected. */
static bool lookup_is(struct h *h, uint64_t gpa, uint64_t hpa, unsigned perms, uint64_t ps)
{
    uint64_t got_hpa = 0, got_ps = 0;
    unsigned got_perms = 0;
    bool found = slat_lookup(&h->s, gpa, &got_hpa, &got_perms, NULL, &got_ps);
    return CHECK_MSG(found && got_hpa == hpa && got_perms == perms && got_ps == ps,
                     "lookup 0x%" PRIx64 ": %s hpa 0x%" PRIx64 " perms %u size 0x%" PRIx64
                     ", expected hpa 0x%" PRIx64 " perms %u size 0x%" PRIx64,
                     gpa, found ? "mapped" : "unmapped", got_hpa, got_perms, got_ps, hpa, perms,
                     ps);
}

#define BOTH(fn)                                                                                   \
    static void fn##_ept(void)                                                                     \
    {                                                                                              \
        fn(SLAT_EPT);                                                                              \
    }                                                                                              \
    static void fn##_npt(void)                                                                     \
    {                                                                                              \
        fn(SLAT_NPT);                                                                              \
    }

#define R   SLAT_READ
#define RW  (SLAT_READ | SLAT_WRITE)
#define RX  (SLAT_READ | SLAT_EXEC)
#define RWX SLAT_RWX

/* ---- fixed cases ---- */

/* A 1 GiB, a 2 MiB and a 4 KiB page, their raw entries compared with values
 * composed by hand from the manuals' layouts, and EPTP / nCR3. */
static void encodings(enum slat_format f)
{
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    CHECK_EQ(h_map(&h, G1, 6 * G1, G1, RX, SLAT_MT_WB), SLAT_OK);
    CHECK_EQ(h_map(&h, M2, 0x300200000ull, M2, RW, SLAT_MT_UC), SLAT_OK);
    CHECK_EQ(h_map(&h, K4, SLAT_HPA_LIMIT - K4, K4, RWX, SLAT_MT_WT), SLAT_OK);
    uint64_t root = h.s.root, pdpt = raw(&h, root, 0) & ADDR_4K;
    uint64_t pd = raw(&h, pdpt, 0) & ADDR_4K, pt = raw(&h, pd, 0) & ADDR_4K;
    CHECK_EQ(h.s.table_frames, 4);
    CHECK_EQ(root & 0xfff, 0);
    CHECK_EQ(count_present(&h, root) + count_present(&h, pdpt), 1 + 2);
    CHECK_EQ(count_present(&h, pd) + count_present(&h, pt), 2 + 1);
    /* Table entries: EPT R|W|X (bits 2:0); NPT P|R/W|U/S (bits 2:0). */
    CHECK_EQ(raw(&h, root, 0), pdpt | 7);
    CHECK_EQ(raw(&h, pdpt, 0), pd | 7);
    CHECK_EQ(raw(&h, pd, 0), pt | 7);
    if (f == SLAT_EPT) {
        /* R=bit 0, X=bit 2, memory type bits 5:3 (WB 6, UC 0, WT 4), bit 7 large. */
        CHECK_EQ(raw(&h, pdpt, 1), 0x180000000ull | 0x1 | 0x4 | (6 << 3) | 0x80);
        CHECK_EQ(raw(&h, pd, 1), 0x300200000ull | 0x1 | 0x2 | 0x80); /* type UC: 0 */
        CHECK_EQ(raw(&h, pt, 1), 0xffffffffff000ull | 0x7 | (4 << 3));
        CHECK_EQ(slat_hardware_root(&h.s), root | (3 << 3) | 6); /* walk length 4-1, WB */
        CHECK_EQ(h_map(&h, 2 * K4, 0x5000, K4, R, SLAT_MT_WC), SLAT_OK);
        CHECK_EQ(h_map(&h, 3 * K4, 0x6000, K4, R, SLAT_MT_WP), SLAT_OK);
        CHECK_EQ(raw(&h, pt, 2), 0x5000ull | 0x1 | (1 << 3));
        CHECK_EQ(raw(&h, pt, 3), 0x6000ull | 0x1 | (5 << 3));
    } else {
        /* P=0 R/W=1 U/S=2 PWT=3 PCD=4 PS=7 NX=63; default PAT 0 WB, 1 WT, 3 UC. */
        CHECK_EQ(raw(&h, pdpt, 1), 0x180000000ull | 0x1 | 0x4 | 0x80);
        CHECK_EQ(raw(&h, pd, 1), (1ull << 63) | 0x300200000ull | 0x7 | 0x18 | 0x80);
        CHECK_EQ(raw(&h, pt, 1), 0xffffffffff000ull | 0x7 | 0x8);
        CHECK_EQ(slat_hardware_root(&h.s), root);
        CHECK_EQ(h_map(&h, 2 * K4, 0x5000, K4, R, SLAT_MT_WB), SLAT_OK);
        CHECK_EQ(raw(&h, pt, 2), (1ull << 63) | 0x5000ull | 0x1 | 0x4);
        CHECK_EQ(h_map(&h, 3 * K4, 0x6000, K4, R, SLAT_MT_WC), SLAT_EINVAL);
        CHECK_EQ(h_map(&h, 3 * K4, 0x6000, K4, R, SLAT_MT_WP), SLAT_EINVAL);
    }
    lookup_is(&h, G1 + 0x1234567, 6 * G1 + 0x1234567, RX, G1);
    lookup_is(&h, M2 + 0x1fffff, 0x300200000ull + 0x1fffff, RW, M2);
    lookup_is(&h, K4 + 0xabc, SLAT_HPA_LIMIT - K4 + 0xabc, RWX, K4);
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(encodings)

/* The largest page that alignment and the allowed sizes permit. */
static void large_pages(enum slat_format f)
{
    static const struct {
        bool a2m, a1g;
        uint64_t big;
        uint64_t frames; /* after mapping the first GiB */
    } cfg[] = {{true, true, G1, 2}, {true, false, M2, 3}, {false, false, K4, 3 + 512}};
    for (int c = 0; c < 3; c++) {
        struct h h;
        if (!h_init(&h, f, cfg[c].a2m, cfg[c].a1g, 2048, true))
            return;
        uint64_t mid = cfg[c].a2m ? M2 : K4;
        CHECK_EQ(h_map(&h, G1, 3 * G1, G1, RW, SLAT_MT_WB), SLAT_OK);
        CHECK_EQ(h.s.table_frames, cfg[c].frames);
        lookup_is(&h, G1 + 0x12345678, 3 * G1 + 0x12345678, RW, cfg[c].big);
        /* gpa 1 GiB-aligned, hpa only 2 MiB-aligned: 2 MiB pages at best. */
        CHECK_EQ(h_map(&h, 2 * G1, 30 * G1 + M2, G1, RW, SLAT_MT_WB), SLAT_OK);
        lookup_is(&h, 3 * G1 - K4, 31 * G1 + M2 - K4, RW, mid);
        /* hpa only 4 KiB-aligned: 4 KiB pages. */
        CHECK_EQ(h_map(&h, 4 * G1, 8 * G1 + K4, 4 * M2, R, SLAT_MT_WB), SLAT_OK);
        lookup_is(&h, 4 * G1 + M2, 8 * G1 + K4 + M2, R, K4);
        /* 2 MiB + 4 KiB: one 2 MiB page, then a 4 KiB page. */
        CHECK_EQ(h_map(&h, 6 * G1 + M2, 20 * G1 + M2, M2 + K4, R, SLAT_MT_WB), SLAT_OK);
        lookup_is(&h, 6 * G1 + M2, 20 * G1 + M2, R, mid);
        lookup_is(&h, 6 * G1 + 2 * M2, 20 * G1 + 2 * M2, R, K4);
        check_tree(&h, NULL);
        h_fini(&h);
    }
}
BOTH(large_pages)

/* Protecting one 4 KiB page of a 1 GiB page splits 1G -> 2M -> 4K; the rest
 * keeps its permissions. */
static void protect_splits(enum slat_format f)
{
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    const uint64_t x = G1 + 0x12345000, hx = 5 * G1 + 0x12345000;
    CHECK_EQ(h_map(&h, G1, 5 * G1, G1, RWX, SLAT_MT_WB), SLAT_OK);
    CHECK_EQ(h.s.table_frames, 2);
    CHECK(!h.s.needs_flush);
    CHECK_EQ(h_protect(&h, x, K4, R), SLAT_OK);
    CHECK(h.s.needs_flush);
    CHECK_EQ(h.s.table_frames, 4);
    lookup_is(&h, x, hx, R, K4);
    lookup_is(&h, x + K4, hx + K4, RWX, K4);
    lookup_is(&h, x - K4, hx - K4, RWX, K4);
    lookup_is(&h, G1, 5 * G1, RWX, M2);
    lookup_is(&h, 2 * G1 - K4, 6 * G1 - K4, RWX, M2);
    check_tree(&h, NULL);
    h.s.needs_flush = false;
    CHECK_EQ(h_protect(&h, x, K4, RWX), SLAT_OK); /* more rights: no flush */
    CHECK(!h.s.needs_flush);
    lookup_is(&h, x, hx, RWX, K4);
    CHECK_EQ(h_protect(&h, G1, G1, R), SLAT_OK);
    CHECK(h.s.needs_flush);
    lookup_is(&h, x, hx, R, K4);
    lookup_is(&h, G1 + 7 * M2, 5 * G1 + 7 * M2, R, M2);
    check_tree(&h, NULL);
    CHECK_EQ(h_unmap(&h, G1, G1), SLAT_OK);
    CHECK_EQ(h.s.table_frames, 1);
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(protect_splits)

/* Unmapping part of a large page splits it; emptied tables are freed. */
static void unmap_splits(enum slat_format f)
{
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    const uint64_t x = G1 + 0x12345000;
    CHECK_EQ(h_map(&h, G1, 5 * G1, G1, RW, SLAT_MT_UC), SLAT_OK);
    CHECK_EQ(h_unmap(&h, x, K4), SLAT_OK);
    CHECK(h.s.needs_flush);
    CHECK(!slat_lookup(&h.s, x, NULL, NULL, NULL, NULL));
    lookup_is(&h, x + K4, 5 * G1 + 0x12346000, RW, K4);
    CHECK_EQ(h.s.table_frames, 4);
    check_tree(&h, NULL);
    CHECK_EQ(h_unmap(&h, x & ~(M2 - 1), M2), SLAT_OK); /* the rest of that 2 MiB: PT freed */
    CHECK_EQ(h.s.table_frames, 3);
    CHECK_EQ(h_unmap(&h, G1, 9 * M2), SLAT_OK);
    CHECK_EQ(h_unmap(&h, G1 + 0x12400000, 2 * G1 - (G1 + 0x12400000) - K4), SLAT_OK);
    lookup_is(&h, 2 * G1 - K4, 6 * G1 - K4, RW, K4);
    CHECK_EQ(h.s.table_frames, 4);
    check_tree(&h, NULL);
    h.s.needs_flush = false;
    CHECK_EQ(h_unmap(&h, 0, G1), SLAT_OK); /* nothing there */
    CHECK(!h.s.needs_flush);
    CHECK_EQ(h_unmap(&h, 2 * G1 - K4, K4), SLAT_OK); /* the last 4 KiB page: PT freed */
    CHECK_EQ(h.s.table_frames, 3);
    CHECK_EQ(h_unmap(&h, G1, G1), SLAT_OK); /* the rest: PD and PDPT freed */
    CHECK_EQ(h.s.table_frames, 1);
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(unmap_splits)

/* A map that meets any mapped page changes nothing. */
static void eexist(enum slat_format f)
{
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    CHECK_EQ(h_map(&h, G1, 0, 4 * M2, RW, SLAT_MT_WB), SLAT_OK);
    uint64_t frames = h.s.table_frames;
    CHECK_EQ(h_map(&h, G1 - M2, 0, M2 + K4, RW, SLAT_MT_WB), SLAT_EEXIST);
    CHECK_EQ(h_map(&h, G1 + 4 * M2 - K4, 0, 4 * M2, RW, SLAT_MT_WB), SLAT_EEXIST);
    CHECK_EQ(h_map(&h, 0, 0, 2 * G1, RW, SLAT_MT_WB), SLAT_EEXIST);
    CHECK_EQ(h.s.table_frames, frames);
    CHECK(!slat_lookup(&h.s, G1 - M2, NULL, NULL, NULL, NULL));
    CHECK(!h.s.needs_flush);
    CHECK_EQ(h_map(&h, G1 + 4 * M2, 8 * M2, 4 * M2, RW, SLAT_MT_WB), SLAT_OK); /* adjacent */
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(eexist)

/* ENOMEM at every allocation of a map: what it mapped is removed, the
 * tables it created are freed, older mappings stay. */
static void enomem_map(enum slat_format f)
{
    static const struct {
        uint64_t gpa, hpa, size, frames; /* frames the map needs */
    } cases[] = {
        /* 4 KiB pages across two GiBs: PD, PT, PT, PD, PT, PT */
        {G1 - M2 - 2 * K4, 9 * G1 + K4, 2 * M2 + 4 * K4, 6},
        /* 2 MiB, 1 GiB, 2 MiB pages: PD, then PD after the 1 GiB leaf */
        {G1 - M2, 10 * G1 - M2, G1 + 2 * M2, 2},
    };
    for (int c = 0; c < 2; c++) {
        for (uint64_t budget = 0; budget <= cases[c].frames; budget++) {
            struct h h;
            if (!h_init(&h, f, true, true, 64, true))
                return;
            CHECK_EQ(h_map(&h, 3 * G1, 0, M2, RW, SLAT_MT_WB), SLAT_OK);
            uint64_t frames = h.s.table_frames;
            h.a.budget = budget;
            int rc = h_map(&h, cases[c].gpa, cases[c].hpa, cases[c].size, RWX, SLAT_MT_WB);
            h.a.budget = UNLIMITED;
            bool enough = budget == cases[c].frames;
            CHECK_EQ(rc, enough ? SLAT_OK : SLAT_ENOMEM);
            /* A failed map that linked a table (even an empty one, which a
             * paging-structure cache may hold) needs a flush. */
            CHECK_EQ(h.s.needs_flush, !enough && budget > 0);
            CHECK_EQ(h.s.table_frames, frames + (enough ? cases[c].frames : 0));
            check_tree(&h, NULL);
            h_fini(&h);
        }
    }
}
BOTH(enomem_map)

/* ENOMEM while splitting leaves every translation as it was. */
static void enomem_split(enum slat_format f)
{
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    const uint64_t x = G1 + 0x12345000, hx = 5 * G1 + 0x12345000;
    CHECK_EQ(h_map(&h, G1, 5 * G1, G1, RWX, SLAT_MT_WB), SLAT_OK);
    h.a.budget = 0;
    CHECK_EQ(h_protect(&h, x, K4, R), SLAT_ENOMEM);
    lookup_is(&h, x, hx, RWX, G1);
    CHECK_EQ(h_unmap(&h, x, K4), SLAT_ENOMEM);
    lookup_is(&h, x, hx, RWX, G1);
    CHECK_EQ(h.s.table_frames, 2);
    h.a.budget = 1; /* 1G -> 2M succeeds, 2M -> 4K does not */
    CHECK_EQ(h_protect(&h, x, K4, R), SLAT_ENOMEM);
    lookup_is(&h, x, hx, RWX, M2);
    CHECK_EQ(h.s.table_frames, 3);
    CHECK(!h.s.needs_flush);
    check_tree(&h, NULL);
    h.a.budget = 0; /* edges on 2 MiB pages: nothing to split */
    CHECK_EQ(h_unmap(&h, G1 + 4 * M2, M2), SLAT_OK);
    CHECK_EQ(h_protect(&h, G1 + 6 * M2, 4 * M2, R), SLAT_OK);
    CHECK(!slat_lookup(&h.s, G1 + 4 * M2, NULL, NULL, NULL, NULL));
    h.a.budget = UNLIMITED;
    CHECK_EQ(h_protect(&h, x, K4, R), SLAT_OK);
    lookup_is(&h, x, hx, R, K4);
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(enomem_split)

/* Bad arguments: the documented code, in the documented order, and no change. */
static void bad_arguments(enum slat_format f)
{
    static const struct {
        enum op_kind kind;
        uint64_t gpa, hpa, size;
        unsigned perms, type;
        int want;
    } calls[] = {
        {OP_MAP, 0x800, 0, K4, RW, SLAT_MT_WB, SLAT_EALIGN},
        {OP_MAP, 0, 0x10, K4, RW, SLAT_MT_WB, SLAT_EALIGN},
        {OP_MAP, 0, 0, K4 + 1, RW, SLAT_MT_WB, SLAT_EALIGN},
        {OP_MAP, 0x800, 0, 0, SLAT_WRITE, 99, SLAT_EALIGN},
        {OP_MAP, 0, 0, 0, RW, SLAT_MT_WB, SLAT_ERANGE},
        {OP_MAP, SLAT_GPA_LIMIT - K4, 0, 2 * K4, RW, SLAT_MT_WB, SLAT_ERANGE},
        {OP_MAP, SLAT_GPA_LIMIT, 0, K4, RW, SLAT_MT_WB, SLAT_ERANGE},
        {OP_MAP, 2 * K4, 0, 0 - K4, RW, SLAT_MT_WB, SLAT_ERANGE},
        {OP_MAP, 0, SLAT_HPA_LIMIT - K4, 2 * K4, RW, SLAT_MT_WB, SLAT_ERANGE},
        {OP_MAP, 0, 0 - K4, K4, RW, SLAT_MT_WB, SLAT_ERANGE},
        {OP_MAP, 0, 0, 0, SLAT_WRITE, 99, SLAT_ERANGE},
        {OP_MAP, 0, 0, K4, 0, SLAT_MT_WB, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, SLAT_WRITE, SLAT_MT_WB, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, SLAT_EXEC, SLAT_MT_WB, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, SLAT_WRITE | SLAT_EXEC, SLAT_MT_WB, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, 8, SLAT_MT_WB, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, R | 8, SLAT_MT_WB, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, R, 2, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, R, 3, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, R, 7, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, R, 0x46, SLAT_EINVAL},
        {OP_MAP, 0, 0, K4, R, SLAT_MT_WB, SLAT_EEXIST},
        {OP_UNMAP, 0x800, 0, K4, 0, 0, SLAT_EALIGN},
        {OP_UNMAP, 0, 0, 0, 0, 0, SLAT_ERANGE},
        {OP_UNMAP, SLAT_GPA_LIMIT - K4, 0, 2 * K4, 0, 0, SLAT_ERANGE},
        {OP_UNMAP, K4, 0, 0 - K4, 0, 0, SLAT_ERANGE},
        {OP_PROTECT, 0x800, 0, K4, R, 0, SLAT_EALIGN},
        {OP_PROTECT, 0, 0, 0, R, 0, SLAT_ERANGE},
        {OP_PROTECT, 0, 0, K4, SLAT_WRITE, 0, SLAT_EINVAL},
        {OP_PROTECT, 0, 0, K4, SLAT_EXEC, 0, SLAT_EINVAL},
        {OP_PROTECT, 0, 0, K4, R | 16, 0, SLAT_EINVAL},
    };
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    CHECK_EQ(h_map(&h, 0, 0x7000, K4, RW, SLAT_MT_WB), SLAT_OK);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        int rc = h_do(&h, calls[i].kind, calls[i].gpa, calls[i].hpa, calls[i].size, calls[i].perms,
                      calls[i].type);
        CHECK_MSG(rc == calls[i].want, "call %zu: %d, expected %d", i, rc, calls[i].want);
    }
    CHECK_EQ(h.s.table_frames, 4);
    CHECK(!h.s.needs_flush);
    lookup_is(&h, 0xfff, 0x7fff, RW, K4);
    CHECK(slat_lookup(&h.s, 0, NULL, NULL, NULL, NULL));
    CHECK(!slat_lookup(&h.s, SLAT_GPA_LIMIT, NULL, NULL, NULL, NULL));
    CHECK(!slat_lookup(&h.s, UINT64_MAX, NULL, NULL, NULL, NULL));
    CHECK(!slat_lookup(&h.s, K4, NULL, NULL, NULL, NULL));
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(bad_arguments)

/* The last GiB below SLAT_GPA_LIMIT and the last page below SLAT_HPA_LIMIT. */
static void top_of_range(enum slat_format f)
{
    struct h h;
    if (!h_init(&h, f, true, true, 64, false))
        return;
    const uint64_t top = SLAT_GPA_LIMIT - G1;
    CHECK_EQ(h_map(&h, top, 7 * G1, G1, RW, SLAT_MT_WB), SLAT_OK);
    lookup_is(&h, SLAT_GPA_LIMIT - 1, 8 * G1 - 1, RW, G1);
    CHECK_EQ(h_map(&h, top - K4, SLAT_HPA_LIMIT - K4, K4, R, SLAT_MT_UC), SLAT_OK);
    lookup_is(&h, top - 1, SLAT_HPA_LIMIT - 1, R, K4);
    CHECK_EQ(h_unmap(&h, SLAT_GPA_LIMIT - K4, K4), SLAT_OK);
    CHECK(!slat_lookup(&h.s, SLAT_GPA_LIMIT - K4, NULL, NULL, NULL, NULL));
    lookup_is(&h, SLAT_GPA_LIMIT - 2 * K4, 8 * G1 - 2 * K4, RW, K4);
    lookup_is(&h, top, 7 * G1, RW, M2);
    CHECK_EQ(h_protect(&h, top - K4, G1, RX), SLAT_OK);
    lookup_is(&h, top, 7 * G1, RX, M2);
    CHECK_EQ(h_unmap(&h, 0, SLAT_GPA_LIMIT), SLAT_OK);
    CHECK_EQ(h.s.table_frames, 1);
    h_fini(&h);
}
BOTH(top_of_range)

/* needs_flush: set when a translation or a permission goes, not otherwise. */
static void flush_rules(enum slat_format f)
{
    static const struct {
        enum op_kind kind;
        uint64_t gpa, size;
        unsigned perms;
        bool flush;
    } steps[] = {
        {OP_PROTECT, 0, 2 * M2, RWX, false},  {OP_PROTECT, 0, 2 * M2, RW, true},
        {OP_PROTECT, 0, 2 * M2, RW, false},   {OP_PROTECT, 4 * M2, 2 * M2, R, false},
        {OP_UNMAP, 4 * M2, 2 * M2, 0, false}, {OP_PROTECT, 0, K4, R, true},
        {OP_MAP, 4 * M2, M2, RW, false},      {OP_PROTECT, 4 * M2, M2, 0, true},
        {OP_UNMAP, M2, K4, 0, true},
    };
    struct h h;
    if (!h_init(&h, f, true, true, 64, true))
        return;
    CHECK_EQ(h_map(&h, 0, 0, 2 * M2, RW, SLAT_MT_WB), SLAT_OK);
    CHECK(!h.s.needs_flush);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        h.s.needs_flush = false;
        int rc = h_do(&h, steps[i].kind, steps[i].gpa, 16 * M2, steps[i].size, steps[i].perms,
                      SLAT_MT_WB);
        CHECK_MSG(rc == SLAT_OK && h.s.needs_flush == steps[i].flush,
                  "step %zu: rc %d, needs_flush %d", i, rc, h.s.needs_flush);
    }
    check_tree(&h, NULL);
    h_fini(&h);
}
BOTH(flush_rules)

static void init_and_destroy(void)
{
    struct h h;
    if (!h_init(&h, SLAT_EPT, true, true, 2048, false))
        return;
    const struct slat_env env = {env_alloc, env_free, env_ptr, &h.a};
    slat_destroy(&h.s);
    CHECK_EQ(h.a.outstanding, 0);
    h.a.budget = 0;
    CHECK_EQ(slat_init(&h.s, SLAT_NPT, true, true, &env), SLAT_ENOMEM);
    CHECK_EQ(h.s.table_frames, 0);
    slat_destroy(&h.s);
    h.a.budget = UNLIMITED;
    CHECK_EQ(slat_init(&h.s, (enum slat_format)7, true, true, &env), SLAT_EINVAL);
    CHECK_EQ(h.a.outstanding, 0);
    CHECK_EQ(slat_init(&h.s, SLAT_NPT, true, true, &env), SLAT_OK);
    for (int i = 0; i < 300; i++) {
        int rc =
            slat_map(&h.s, rng() % (SLAT_GPA_LIMIT / K4) * K4, (uint64_t)i * K4, K4, R, SLAT_MT_WB);
        CHECK(rc == SLAT_OK || rc == SLAT_EEXIST);
    }
    CHECK(h.s.table_frames > 300);
    h_fini(&h);
}

/* ---- random operations against the model ---- */

static uint64_t rand_gpa(void)
{
    uint64_t r = rng() % 100, align = r < 45 ? K4 : r < 80 ? M2 : G1;
    return rng() % (WIN / align) * align;
}

/* Sizes from a page to 3 GiB, many of them crossing large-page boundaries. */
static uint64_t rand_size(void)
{
    uint64_t r = rng() % 100, k = 1 + rng() % 4;
    if (r < 30)
        return (1 + rng() % 16) * K4;
    if (r < 45)
        return (1 + rng() % 1024) * K4;
    if (r < 62)
        return (1 + rng() % 8) * M2;
    if (r < 80)
        return (1 + rng() % 8) * M2 + (rng() % 2 ? k * K4 : 0 - k * K4);
    if (r < 88)
        return G1;
    if (r < 97)
        return G1 + (rng() % 2 ? k : 0 - k) * (rng() % 2 ? M2 : K4);
    return 2 * G1 + rng() % 512 * M2;
}

/* Mostly as aligned as gpa, so that large pages are possible. */
static uint64_t rand_hpa(uint64_t gpa)
{
    uint64_t align = gpa % G1 == 0 ? G1 : gpa % M2 == 0 ? M2 : K4;
    if (rng() % 100 < 30)
        align = K4;
    return rng() % (HPA_SPAN / align) * align;
}

static unsigned rand_perms(enum op_kind kind)
{
    static const unsigned good[] = {R, RW, RX, RWX};
    static const unsigned bad[] = {SLAT_WRITE, SLAT_EXEC, SLAT_WRITE | SLAT_EXEC, 8, R | 16, 0};
    uint64_t r = rng() % 100;
    if (kind == OP_PROTECT && r < 10)
        return 0;
    if (r < 90)
        return good[rng() % 4];
    return bad[rng() % (kind == OP_MAP ? 6 : 5)];
}

static unsigned rand_type(enum slat_format f)
{
    static const unsigned good[] = {SLAT_MT_UC, SLAT_MT_WT, SLAT_MT_WB, SLAT_MT_WC, SLAT_MT_WP};
    static const unsigned any[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x46};
    if (rng() % 100 < 92)
        return good[rng() % (f == SLAT_EPT ? 5 : 3)];
    return any[rng() % 9];
}

/* One argument made invalid (or, for unmap/protect, an hpa that does not matter). */
static void corrupt(struct op *o)
{
    switch (rng() % 7) {
    case 0:
        o->gpa += 0x800;
        break;
    case 1:
        o->size += 0x10;
        break;
    case 2:
        o->hpa |= 0x8;
        break;
    case 3:
        o->size = 0;
        break;
    case 4:
        o->gpa = SLAT_GPA_LIMIT - K4;
        o->size = 2 * K4;
        break;
    case 5:
        o->size = 0 - K4;
        break;
    default:
        o->gpa = o->gpa < WIN - 2 * K4 ? o->gpa : WIN - 2 * K4;
        o->hpa = SLAT_HPA_LIMIT - K4;
        o->size = 2 * K4;
        break;
    }
}

static void rand_op(struct op *o, enum slat_format f)
{
    uint64_t r = rng() % 100;
    o->kind = r < 45 ? OP_MAP : r < 70 ? OP_UNMAP : OP_PROTECT;
    o->gpa = rand_gpa();
    o->size = rand_size();
    o->hpa = rand_hpa(o->gpa);
    /* Small maps stay mostly below 5 GiB and leave room above for 1 GiB
     * pages, which unmap and protect then split. */
    if (o->kind == OP_MAP && rng() % 100 < 8) {
        o->gpa = rng() % (WIN / G1) * G1;
        o->hpa = rng() % (HPA_SPAN / G1) * G1;
        o->size = G1 + (rng() % 2 ? G1 : rng() % 512 * M2);
    } else if (o->kind == OP_MAP && rng() % 100 < 85) {
        o->gpa %= 5 * G1;
    }
    if (o->kind == OP_UNMAP && rng() % 100 < 30) /* free whole GiBs now and then */
        o->size = (1 + rng() % 3) * G1 + (rng() % 4 == 0 ? rand_size() : 0);
    if (o->size > WIN - o->gpa)
        o->size = WIN - o->gpa;
    o->perms = rand_perms(o->kind);
    o->type = rand_type(f);
    if (rng() % 100 < 5)
        corrupt(o);
}

struct run {
    enum slat_format f;
    bool a2m, a1g, tight; /* tight: a third of the operations get a small frame budget */
    int ops;
};

/* Whether an operation with an edge at gpa has a 1 GiB page to split. */
static bool edge_in_1g_page(const struct h *h, uint64_t gpa)
{
    uint64_t ps = 0;
    return gpa % G1 != 0 && slat_lookup(&h->s, gpa, NULL, NULL, NULL, &ps) && ps == G1;
}

struct tally {
    uint64_t ops, ok, eexist, enomem, bad, max_frames, leaves[3], maps_1g, splits_1g;
};

static uint64_t total_ops;

/* Runs one random operation and checks its code, needs_flush, the frame
 * count and the lookups around it against the model. */
static void random_step(struct h *h, const struct run *run, int step, struct tally *t)
{
    struct op o;
    rand_op(&o, run->f);
    int want = predict(h, &o);
    bool want_flush = want == SLAT_OK && predict_flush(h, &o);
    uint64_t frames = h->s.table_frames, refused = h->a.refused;
    bool splits_1g =
        o.kind != OP_MAP && (edge_in_1g_page(h, o.gpa) || edge_in_1g_page(h, o.gpa + o.size));
    h->a.budget = run->tight && rng() % 3 == 0 ? rng() % 24 : UNLIMITED;
    h->s.needs_flush = false;
    int rc = do_op(h, &o);
    h->a.budget = UNLIMITED;
    bool refusal = h->a.refused != refused;
    if (rc == SLAT_ENOMEM) {
        CHECK_MSG(refusal && want == SLAT_OK, "step %d: ENOMEM, expected %d", step, want);
        if (o.kind == OP_MAP)
            CHECK_EQ(h->s.table_frames, frames);
        else
            CHECK_MSG(!h->s.needs_flush, "step %d: failed split set needs_flush", step);
        t->enomem++;
    } else {
        CHECK_MSG(rc == want && !refusal && h->s.needs_flush == want_flush,
                  "step %d: op %d gpa 0x%" PRIx64 " hpa 0x%" PRIx64 " size 0x%" PRIx64
                  " perms %u type %u: rc %d flush %d, expected %d flush %d",
                  step, o.kind, o.gpa, o.hpa, o.size, o.perms, o.type, rc, h->s.needs_flush, want,
                  want_flush);
        if (rc == SLAT_OK)
            model_apply(h, &o);
        else
            CHECK_EQ(h->s.table_frames, frames);
        uint64_t ps = 0;
        if (rc == SLAT_OK && o.kind == OP_MAP && o.size >= G1 &&
            slat_lookup(&h->s, (o.gpa + G1 - 1) & ~(G1 - 1), NULL, NULL, NULL, &ps))
            t->maps_1g += ps == G1;
        t->splits_1g += rc == SLAT_OK && splits_1g;
        t->ok += rc == SLAT_OK;
        t->eexist += rc == SLAT_EEXIST;
        t->bad += rc != SLAT_OK && rc != SLAT_EEXIST;
    }
    h_frames_ok(h);
    check_around(h, &o);
    if (h->s.table_frames > t->max_frames)
        t->max_frames = h->s.table_frames;
}

static void random_run(const struct run *run)
{
    struct h h;
    struct tally t = {0};
    if (!h_init(&h, run->f, run->a2m, run->a1g, 12288, true))
        return;
    for (int step = 0; step < run->ops && !check_state.case_failed; step++) {
        random_step(&h, run, step, &t);
        t.ops++;
        if (step % 500 == 499)
            check_tree(&h, t.leaves);
    }
    check_tree(&h, t.leaves);
    /* Every allowed page size was used, and enough operations succeeded. */
    CHECK(t.leaves[0] > 0 && (t.leaves[1] > 0) == run->a2m);
    CHECK((t.maps_1g > 0) == run->a1g && (t.splits_1g > 0) == run->a1g);
    CHECK(t.ok > t.ops / 4 && t.eexist > 0 && t.bad > 0 && (t.enomem > 0) == run->tight);
    CHECK_EQ(slat_unmap(&h.s, 0, SLAT_GPA_LIMIT), SLAT_OK);
    memset(h.m, 0, WIN / K4 * sizeof(*h.m));
    memset(h.chunk, 0, WIN / M2 * sizeof(*h.chunk));
    h.mapped = 0;
    CHECK_EQ(h.s.table_frames, 1);
    check_tree(&h, NULL);
    h_fini(&h);
    total_ops += t.ops;
    fprintf(stderr,
            "slat random %s 2m=%d 1g=%d: %" PRIu64 " ops: %" PRIu64 " ok, %" PRIu64
            " eexist, %" PRIu64 " enomem, %" PRIu64 " bad args; %" PRIu64
            " maps with 1 GiB pages, %" PRIu64 " ops splitting one; leaves seen 4k/2m/1g %" PRIu64
            "/%" PRIu64 "/%" PRIu64 "; max %" PRIu64 " table frames\n",
            run->f == SLAT_EPT ? "ept" : "npt", run->a2m, run->a1g, t.ops, t.ok, t.eexist, t.enomem,
            t.bad, t.maps_1g, t.splits_1g, t.leaves[0], t.leaves[1], t.leaves[2], t.max_frames);
}

#define RANDOM_OPS 12000

static void random_ept(void)
{
    random_run(&(struct run){SLAT_EPT, true, true, false, RANDOM_OPS});
}

static void random_npt(void)
{
    random_run(&(struct run){SLAT_NPT, true, true, false, RANDOM_OPS});
}

static void random_ept_enomem(void)
{
    random_run(&(struct run){SLAT_EPT, true, true, true, RANDOM_OPS / 2});
}

static void random_npt_enomem(void)
{
    random_run(&(struct run){SLAT_NPT, true, true, true, RANDOM_OPS / 2});
}

static void random_ept_2m_only(void)
{
    random_run(&(struct run){SLAT_EPT, true, false, false, RANDOM_OPS / 4});
}

static void random_npt_4k_only(void)
{
    random_run(&(struct run){SLAT_NPT, false, false, false, RANDOM_OPS / 4});
}

int main(void)
{
    const char *seed = getenv("SLAT_SEED");
    if (seed != NULL && strtoull(seed, NULL, 0) != 0)
        rng_state = strtoull(seed, NULL, 0);
    fprintf(stderr, "slat: seed 0x%" PRIx64 "\n", rng_state);
    check_begin("slat");
    RUN(encodings_ept);
    RUN(encodings_npt);
    RUN(large_pages_ept);
    RUN(large_pages_npt);
    RUN(protect_splits_ept);
    RUN(protect_splits_npt);
    RUN(unmap_splits_ept);
    RUN(unmap_splits_npt);
    RUN(eexist_ept);
    RUN(eexist_npt);
    RUN(enomem_map_ept);
    RUN(enomem_map_npt);
    RUN(enomem_split_ept);
    RUN(enomem_split_npt);
    RUN(bad_arguments_ept);
    RUN(bad_arguments_npt);
    RUN(top_of_range_ept);
    RUN(top_of_range_npt);
    RUN(flush_rules_ept);
    RUN(flush_rules_npt);
    RUN(init_and_destroy);
    RUN(random_ept);
    RUN(random_npt);
    RUN(random_ept_enomem);
    RUN(random_npt_enomem);
    RUN(random_ept_2m_only);
    RUN(random_npt_4k_only);
    fprintf(stderr, "slat: %" PRIu64 " random operations\n", total_ops);
    return check_finish();
}
