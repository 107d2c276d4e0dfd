/*
 * Host unit tests of kernel/buddy.c: fixed cases, a long random run against
 * a byte-per-frame model, rejection of bad frees, and a 24 GiB-sized span.
 */
#include "buddy.h"
#include "check.h"

enum { M_RESERVED = 0, M_FREE = 1, M_ALLOCATED = 2 };

struct harness {
    struct buddy b;
    struct buddy_frame *meta;
    uint8_t *model; /* per frame of the span */
};

static void h_init(struct harness *h, uint64_t base_pfn, uint64_t npages)
{
    h->meta = malloc(buddy_metadata_bytes(npages) + 1);
    h->model = calloc(npages + 1, 1);
    if (h->meta == NULL || h->model == NULL)
        abort();
    buddy_init(&h->b, base_pfn, npages, h->meta);
}

static void h_free(struct harness *h)
{
    free(h->meta);
    free(h->model);
}

static void h_add(struct harness *h, uint64_t pfn, uint64_t count)
{
    buddy_add_free_range(&h->b, pfn, count);
    uint64_t end = count > UINT64_MAX - pfn ? UINT64_MAX : pfn + count;
    for (uint64_t i = 0; i < h->b.npages; i++) {
        uint64_t p = h->b.base_pfn + i;
        if (p >= pfn && p < end && h->model[i] == M_RESERVED)
            h->model[i] = M_FREE;
    }
}

/* Walks every free list: each block in the span, aligned, all its frames
 * free in the model, no frame in two blocks, links consistent, and the
 * total equal to free_pages and to the model's free frames. */
static const char *check_lists(struct harness *h)
{
    static char msg[160];
    struct buddy *b = &h->b;
    uint8_t *seen = calloc(b->npages + 1, 1);
    uint64_t total = 0, model_free = 0;
    const char *why = NULL;
    for (unsigned o = 0; o < BUDDY_ORDERS && why == NULL; o++) {
        uint32_t prev = BUDDY_NONE;
        uint64_t steps = 0;
        for (uint32_t i = b->free_head[o]; i != BUDDY_NONE && why == NULL; i = b->frames[i].next) {
            uint64_t size = 1ull << o, pfn = b->base_pfn + i;
            if (++steps > b->npages)
                why = "free list loops";
            else if (i >= b->npages || size > b->npages - i)
                why = "free block outside the span";
            else if (pfn % size != 0)
                why = "free block misaligned";
            else if (b->frames[i].prev != prev)
                why = "broken prev link";
            for (uint64_t k = 0; k < size && why == NULL; k++) {
                if (seen[i + k] || h->model[i + k] != M_FREE) {
                    snprintf(msg, sizeof(msg), "frame %llu: in two blocks or not free in model",
                             (unsigned long long)(pfn + k));
                    why = msg;
                }
                seen[i + k] = 1;
            }
            total += size;
            prev = i;
        }
    }
    for (uint64_t i = 0; i < b->npages; i++)
        model_free += h->model[i] == M_FREE;
    if (why == NULL && (total != b->free_pages || total != model_free)) {
        snprintf(msg, sizeof(msg), "free lists hold %llu, free_pages %llu, model %llu",
                 (unsigned long long)total, (unsigned long long)b->free_pages,
                 (unsigned long long)model_free);
        why = msg;
    }
    free(seen);
    return why;
}

/* Whether the model has a naturally aligned, entirely free 2^order block. */
static bool model_has_block(struct harness *h, unsigned order)
{
    uint64_t size = 1ull << order;
    uint64_t first = (h->b.base_pfn + size - 1) / size * size;
    for (uint64_t p = first; p - h->b.base_pfn + size <= h->b.npages; p += size) {
        uint64_t i = p - h->b.base_pfn, k = 0;
        while (k < size && h->model[i + k] == M_FREE)
            k++;
        if (k == size)
            return true;
    }
    return false;
}

static uint64_t h_alloc(struct harness *h, unsigned order)
{
    uint64_t pfn = buddy_alloc(&h->b, order);
    if (pfn == BUDDY_ALLOC_FAILED)
        return pfn;
    uint64_t size = 1ull << order;
    if (pfn % size != 0 || pfn < h->b.base_pfn || pfn - h->b.base_pfn + size > h->b.npages) {
        FAILF("alloc order %u returned bad pfn 0x%llx", order, (unsigned long long)pfn);
        return BUDDY_ALLOC_FAILED;
    }
    for (uint64_t k = 0; k < size; k++) {
        if (h->model[pfn - h->b.base_pfn + k] != M_FREE) {
            FAILF("alloc handed out frame 0x%llx that is not free", (unsigned long long)(pfn + k));
            return BUDDY_ALLOC_FAILED;
        }
        h->model[pfn - h->b.base_pfn + k] = M_ALLOCATED;
    }
    return pfn;
}

static void h_release(struct harness *h, uint64_t pfn, unsigned order)
{
    CHECK_EQ(buddy_free(&h->b, pfn, order), 0);
    memset(h->model + (pfn - h->b.base_pfn), M_FREE, 1ull << order);
}

static void metadata_size(void)
{
    CHECK_EQ(buddy_metadata_bytes(0), 0);
    CHECK_EQ(buddy_metadata_bytes(10), 10 * sizeof(struct buddy_frame));
    CHECK_EQ(buddy_metadata_bytes(UINT64_MAX), 0xffffffffull * sizeof(struct buddy_frame));
}

static void starts_reserved(void)
{
    struct harness h;
    h_init(&h, 100, 1000);
    CHECK_EQ(buddy_free_pages(&h.b), 0);
    CHECK_EQ(buddy_alloc(&h.b, 0), BUDDY_ALLOC_FAILED);
    CHECK_EQ(buddy_free(&h.b, 100, 0), -1); /* reserved, never allocated */
    CHECK_EQ(buddy_alloc(&h.b, BUDDY_MAX_ORDER + 1), BUDDY_ALLOC_FAILED);
    h_free(&h);
}

/* An unaligned base and an odd size: every frame is handed out exactly once
 * at order 0, and every block comes back naturally aligned. */
static void unaligned_span_exhaust(void)
{
    struct harness h;
    h_init(&h, 0x1ff, 1001);
    h_add(&h, 0, UINT64_MAX); /* clipped to the span */
    CHECK_EQ(buddy_free_pages(&h.b), 1001);
    CHECK_OK(check_lists(&h));
    uint64_t *got = malloc(1001 * sizeof(uint64_t));
    unsigned n = 0;
    uint64_t pfn;
    while ((pfn = h_alloc(&h, 0)) != BUDDY_ALLOC_FAILED && n < 1001)
        got[n++] = pfn;
    CHECK_EQ(n, 1001);
    CHECK_EQ(buddy_free_pages(&h.b), 0);
    CHECK_EQ(buddy_alloc(&h.b, 0), BUDDY_ALLOC_FAILED);
    for (unsigned i = 0; i < n; i++)
        h_release(&h, got[i], 0);
    CHECK_EQ(buddy_free_pages(&h.b), 1001);
    CHECK_OK(check_lists(&h));
    /* 2 MiB blocks (order 9) are 2 MiB-aligned in absolute terms. */
    pfn = h_alloc(&h, 9);
    CHECK_EQ(pfn, 0x200);
    CHECK_EQ(h_alloc(&h, 9), BUDDY_ALLOC_FAILED); /* [0x400, 0x5e8) is too short */
    CHECK_EQ(h_alloc(&h, 8), 0x400);
    CHECK(model_has_block(&h, 9) == false);
    free(got);
    h_free(&h);
}

static void splits_and_coalesces(void)
{
    struct harness h;
    h_init(&h, 0, 1u << 12);
    h_add(&h, 0, 1u << 12);
    CHECK_EQ(h.b.free_head[12], 0);
    uint64_t a = h_alloc(&h, 0);
    CHECK_EQ(a, 0);
    for (unsigned o = 0; o < 12; o++) /* one block split off at each order */
        CHECK_EQ(h.b.free_head[o], 1u << o);
    CHECK_EQ(h.b.free_head[12], BUDDY_NONE);
    h_release(&h, a, 0);
    CHECK_EQ(h.b.free_head[12], 0);
    for (unsigned o = 0; o < 12; o++)
        CHECK_EQ(h.b.free_head[o], BUDDY_NONE);
    CHECK_OK(check_lists(&h));
    h_free(&h);
}

static void rejects_bad_frees(void)
{
    struct harness h;
    h_init(&h, 1000, 4096);
    h_add(&h, 1000, 4096);
    uint64_t blk = h_alloc(&h, 3);
    CHECK(blk != BUDDY_ALLOC_FAILED);
    struct buddy snapshot = h.b;
    struct buddy_frame *meta = malloc(buddy_metadata_bytes(4096));
    memcpy(meta, h.meta, buddy_metadata_bytes(4096));
    CHECK_EQ(buddy_free(&h.b, 999, 0), -1);         /* below the span */
    CHECK_EQ(buddy_free(&h.b, 1000 + 4096, 0), -1); /* above */
    CHECK_EQ(buddy_free(&h.b, UINT64_MAX, 0), -1);
    CHECK_EQ(buddy_free(&h.b, blk + 1, 0), -1); /* inside the block */
    CHECK_EQ(buddy_free(&h.b, blk, 2), -1);     /* wrong order: smaller */
    CHECK_EQ(buddy_free(&h.b, blk, 4), -1);     /* wrong order: larger */
    CHECK_EQ(buddy_free(&h.b, blk + 4, 2), -1); /* upper half */
    CHECK_EQ(buddy_free(&h.b, blk, BUDDY_MAX_ORDER + 1), -1);
    CHECK_EQ(buddy_free(&h.b, blk, 255), -1);
    CHECK_EQ(buddy_free(&h.b, blk ^ 8, 3), -1); /* its free buddy */
    CHECK_EQ(buddy_free(&h.b, 1001, 0), -1);    /* never allocated */
    CHECK(memcmp(&snapshot, &h.b, sizeof(h.b)) == 0);
    CHECK(memcmp(meta, h.meta, buddy_metadata_bytes(4096)) == 0);
    h_release(&h, blk, 3);
    CHECK_EQ(buddy_free(&h.b, blk, 3), -1); /* double free */
    CHECK_EQ(buddy_free_pages(&h.b), 4096);
    CHECK_OK(check_lists(&h));
    free(meta);
    h_free(&h);
}

static void add_range_is_idempotent(void)
{
    struct harness h;
    h_init(&h, 0, 2048);
    h_add(&h, 100, 500);
    h_add(&h, 100, 500);
    h_add(&h, 300, 500); /* overlaps: only [600, 800) is new */
    CHECK_EQ(buddy_free_pages(&h.b), 700);
    uint64_t a = h_alloc(&h, 4);
    h_add(&h, 0, 2048); /* must not free the allocated block */
    CHECK_EQ(buddy_free_pages(&h.b), 2048 - 16);
    CHECK_OK(check_lists(&h));
    h_release(&h, a, 4);
    CHECK_EQ(h.b.free_head[11], 0);
    h_add(&h, UINT64_MAX - 5, 100); /* wraps: clipped */
    h_add(&h, 5000, 10);            /* outside */
    CHECK_EQ(buddy_free_pages(&h.b), 2048);
    CHECK_OK(check_lists(&h));
    h_free(&h);
}

static void null_and_empty_spans(void)
{
    struct buddy b;
    buddy_init(&b, 5, 100, NULL);
    CHECK_EQ(b.npages, 0);
    buddy_add_free_range(&b, 0, 1000);
    CHECK_EQ(buddy_alloc(&b, 0), BUDDY_ALLOC_FAILED);
    CHECK_EQ(buddy_free(&b, 5, 0), -1);
    struct buddy_frame one;
    buddy_init(&b, UINT64_MAX - 1, 10, &one); /* clipped so base + npages fits */
    CHECK_EQ(b.npages, 1);
    buddy_add_free_range(&b, UINT64_MAX - 1, 1);
    CHECK_EQ(buddy_alloc(&b, 0), UINT64_MAX - 1);
    CHECK_EQ(buddy_free(&b, UINT64_MAX - 1, 0), 0);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The free blocks as a bitmap of (order, index) heads: the set the free
 * lists hold, whatever their order. */
static uint8_t *free_block_set(struct harness *h)
{
    uint8_t *set = calloc(BUDDY_ORDERS * (h->b.npages + 1), 1);
    for (unsigned o = 0; o < BUDDY_ORDERS; o++) {
        for (uint32_t i = h->b.free_head[o]; i != BUDDY_NONE; i = h->b.frames[i].next)
            set[o * (h->b.npages + 1) + i] = 1;
    }
    return set;
}

struct live {
    uint64_t pfn;
    unsigned order;
};

/* 200,000 random operations with holes in the span; the model is checked
 * at every step that touches it, the free lists every 2,000 steps, and the
 * free lists after freeing everything equal those before any allocation. */
static void random_against_model(void)
{
    struct harness h;
    const uint64_t base = 7, n = 6000;
    h_init(&h, base, n);
    h_add(&h, base, 1000);
    h_add(&h, base + 1100, 2900);
    h_add(&h, base + 4003, 1997);
    CHECK_OK(check_lists(&h));
    uint8_t *blocks_before = free_block_set(&h);
    uint64_t free_before = buddy_free_pages(&h.b);

    struct live *live = malloc(n * sizeof(*live));
    unsigned nlive = 0;
    for (int step = 0; step < 200000 && !check_state.case_failed; step++) {
        uint64_t r = rng();
        if (r % 100 < 55 || nlive == 0) {
            unsigned order = (r >> 8) % 4 == 0 ? (r >> 16) % 11 : (r >> 16) % 3;
            uint64_t pfn = h_alloc(&h, order);
            if (pfn != BUDDY_ALLOC_FAILED)
                live[nlive++] = (struct live){pfn, order};
            else if ((r >> 24) % 8 == 0 && model_has_block(&h, order))
                FAILF("step %d: alloc order %u failed with a free block in the model", step, order);
        } else {
            unsigned k = (r >> 8) % nlive;
            struct live v = live[k];
            if ((r >> 20) % 10 == 0 && v.order > 0) /* a wrong order is refused */
                CHECK_EQ(buddy_free(&h.b, v.pfn, v.order - 1), -1);
            h_release(&h, v.pfn, v.order);
            live[k] = live[--nlive];
            if ((r >> 28) % 10 == 0) /* and so is freeing it again */
                CHECK_EQ(buddy_free(&h.b, v.pfn, v.order), -1);
        }
        if (step % 2000 == 0)
            CHECK_OK(check_lists(&h));
    }
    while (nlive > 0) {
        nlive--;
        h_release(&h, live[nlive].pfn, live[nlive].order);
    }
    CHECK_OK(check_lists(&h));
    CHECK_EQ(buddy_free_pages(&h.b), free_before);
    uint8_t *blocks_after = free_block_set(&h);
    CHECK(memcmp(blocks_before, blocks_after, BUDDY_ORDERS * (n + 1)) == 0);
    free(blocks_before);
    free(blocks_after);
    free(live);
    h_free(&h);
}

/* 24 GiB of frames: metadata and operations stay affordable. */
static void scales_to_24_gib(void)
{
    const uint64_t n = 6ull * 1024 * 1024;
    struct buddy_frame *meta = malloc(buddy_metadata_bytes(n));
    CHECK(meta != NULL);
    if (meta == NULL)
        return;
    struct buddy b;
    buddy_init(&b, 0x100, n, meta);
    buddy_add_free_range(&b, 0x100, n);
    CHECK_EQ(buddy_free_pages(&b), n);
    uint64_t big[8];
    for (int i = 0; i < 8; i++) {
        big[i] = buddy_alloc(&b, BUDDY_MAX_ORDER);
        CHECK_EQ(big[i] % (1u << BUDDY_MAX_ORDER), 0);
    }
    for (int round = 0; round < 300000; round++) {
        uint64_t p = buddy_alloc(&b, round % 3);
        CHECK(p != BUDDY_ALLOC_FAILED);
        CHECK_EQ(buddy_free(&b, p, round % 3), 0);
    }
    for (int i = 0; i < 8; i++)
        CHECK_EQ(buddy_free(&b, big[i], BUDDY_MAX_ORDER), 0);
    CHECK_EQ(buddy_free_pages(&b), n);
    free(meta);
}

int main(void)
{
    check_begin("buddy");
    RUN(metadata_size);
    RUN(starts_reserved);
    RUN(unaligned_span_exhaust);
    RUN(splits_and_coalesces);
    RUN(rejects_bad_frees);
    RUN(add_range_is_idempotent);
    RUN(null_and_empty_spans);
    RUN(random_against_model);
    RUN(scales_to_24_gib);
    return check_finish();
}
