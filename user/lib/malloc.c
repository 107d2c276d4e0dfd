/*
 * The ring-3 heap (libc.h): malloc, free, calloc, realloc over
 * KEEL_HC_MEM_MAP.
 *
 * Small requests (up to HEAP_SMALL_MAX bytes) are rounded up to one of the
 * power-of-two size classes 16 .. 2048 and carved from 64 KiB arenas; a
 * freed small block goes on its class's free list and is reused, never
 * returned to the core. Larger requests get a mapping of their own, unmapped
 * by free. Every block starts with a 16-byte header (so payloads stay
 * 16-byte aligned) whose magic tells a live block from a freed one: freeing
 * a freed block or a pointer that is no block is fatal. One spinlock guards
 * the lists; the heap is the only global state of the library.
 */
#include "keel.h"
#include "libc.h"

#define HEAP_ALIGN       16u
#define HEAP_CLASS_SHIFT 4u /* the smallest class: 16 bytes */
#define HEAP_CLASSES     8u /* 16, 32, ..., 2048 */
#define HEAP_SMALL_MAX   (1ul << (HEAP_CLASS_SHIFT + HEAP_CLASSES - 1))
#define HEAP_ARENA_SIZE  (64 * 1024ul)
#define HEAP_CLASS_LARGE 0xffffu
#define BLOCK_LIVE       0x4556494cu /* "LIVE" */
#define BLOCK_FREE       0x45455246u /* "FREE" */

struct block {
    uint32_t magic;
    uint32_t class;  /* size class index, or HEAP_CLASS_LARGE */
    uint64_t usable; /* payload bytes: the class size, or mapping - header */
};

struct free_block {
    struct free_block *next;
};

_Static_assert(sizeof(struct block) == HEAP_ALIGN, "payloads must stay 16-byte aligned");

static struct {
    int lock;
    struct free_block *free[HEAP_CLASSES];
    char *arena;       /* next unused byte of the current arena */
    size_t arena_left; /* bytes left in it */
} heap;

static void heap_lock(void)
{
    while (__atomic_exchange_n(&heap.lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&heap.lock, __ATOMIC_RELAXED))
            __asm__ volatile("pause");
    }
}

static void heap_unlock(void)
{
    __atomic_store_n(&heap.lock, 0, __ATOMIC_RELEASE);
}

static size_t class_size(unsigned class)
{
    return (size_t)1 << (class + HEAP_CLASS_SHIFT);
}

static unsigned class_of(size_t size)
{
    unsigned class = 0;
    while (class_size(class) < size)
        class ++;
    return class;
}

static void *payload_of(struct block *b)
{
    return b + 1;
}

static struct block *block_of(void *ptr)
{
    return (struct block *)ptr - 1;
}

/* Hands what is left of the arena to the free lists, largest class first. */
static void arena_retire(void)
{
    for (unsigned class = HEAP_CLASSES; class -- > 0;) {
        size_t need = sizeof(struct block) + class_size(class);
        while (heap.arena_left >= need) {
            struct block *b = (struct block *)heap.arena;
            b->magic = BLOCK_FREE;
            b->class = class;
            b->usable = class_size(class);
            struct free_block *f = payload_of(b);
            f->next = heap.free[class];
            heap.free[class] = f;
            heap.arena += need;
            heap.arena_left -= need;
        }
    }
}

/* A block of the class from its free list or the arena; NULL without
 * memory. Called with the lock held. */
static struct block *small_alloc(unsigned class)
{
    struct free_block *f = heap.free[class];
    if (f != NULL) {
        heap.free[class] = f->next;
        return block_of(f);
    }
    size_t need = sizeof(struct block) + class_size(class);
    if (heap.arena_left < need) {
        void *arena;
        if (keel_mem_map(HEAP_ARENA_SIZE, KEEL_PROT_READ | KEEL_PROT_WRITE, &arena) < 0)
            return NULL;
        arena_retire();
        heap.arena = arena;
        heap.arena_left = HEAP_ARENA_SIZE;
    }
    struct block *b = (struct block *)heap.arena;
    heap.arena += need;
    heap.arena_left -= need;
    b->class = class;
    b->usable = class_size(class);
    return b;
}

static struct block *large_alloc(size_t size)
{
    if (size > SIZE_MAX - sizeof(struct block) - KEEL_PAGE_SIZE)
        return NULL;
    size_t map = (size + sizeof(struct block) + KEEL_PAGE_SIZE - 1) & ~(KEEL_PAGE_SIZE - 1);
    void *mem;
    if (keel_mem_map(map, KEEL_PROT_READ | KEEL_PROT_WRITE, &mem) < 0)
        return NULL;
    struct block *b = mem;
    b->class = HEAP_CLASS_LARGE;
    b->usable = map - sizeof(struct block);
    return b;
}

void *malloc(size_t size)
{
    struct block *b;
    if (size > HEAP_SMALL_MAX) {
        b = large_alloc(size);
    } else {
        heap_lock();
        b = small_alloc(class_of(size));
        heap_unlock();
    }
    if (b == NULL)
        return NULL;
    b->magic = BLOCK_LIVE;
    return payload_of(b);
}

/* The header of ptr, which must be a live block; anything else is fatal. */
static struct block *live_block(void *ptr, const char *who)
{
    struct block *b = block_of(ptr);
    if ((uintptr_t)ptr % HEAP_ALIGN != 0)
        keel_fatal("%s(%p): not a heap block (misaligned)\n", who, ptr);
    if (b->magic == BLOCK_FREE)
        keel_fatal("%s(%p): the block was already freed\n", who, ptr);
    bool small_ok = b->class < HEAP_CLASSES && b->usable == class_size(b->class);
    bool large_ok = b->class == HEAP_CLASS_LARGE && b->usable > HEAP_SMALL_MAX;
    if (b->magic != BLOCK_LIVE || !(small_ok || large_ok))
        keel_fatal("%s(%p): not a heap block (bad header)\n", who, ptr);
    return b;
}

void free(void *ptr)
{
    if (ptr == NULL)
        return;
    heap_lock();
    struct block *b = live_block(ptr, "free");
    b->magic = BLOCK_FREE;
    bool large = b->class == HEAP_CLASS_LARGE;
    size_t mapped = b->usable + sizeof(struct block);
    if (!large) {
        struct free_block *f = ptr;
        f->next = heap.free[b->class];
        heap.free[b->class] = f;
    }
    heap_unlock();
    if (large)
        keel_mem_unmap(b, mapped);
}

void *calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

/* realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL. */
void *realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    heap_lock();
    size_t usable = live_block(ptr, "realloc")->usable;
    heap_unlock();
    if (size <= usable)
        return ptr;
    void *p = malloc(size);
    if (p == NULL)
        return NULL; /* ptr stays valid, as C says */
    memcpy(p, ptr, usable);
    free(ptr);
    return p;
}
