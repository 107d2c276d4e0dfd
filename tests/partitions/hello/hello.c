/*
 * The smallest service partition: proves the ring-3 runtime (crt0, the
 * hypercall stubs, printf, the heap) works. Prints
 *   hello: partition <name> running in ring 3, <n> modules
 * then checks small, large, calloc'd and realloc'd heap blocks, prints
 *   hello: done
 * and exits with status 0 (1 when a check failed).
 */
#include "keel.h"
#include "libc.h"

#define PATTERN_SMALL 0x5a
#define PATTERN_LARGE 0xc3

static bool filled(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v)
            return false;
    }
    return true;
}

/* One block of each size: filled, checked, freed; 0 when all held. */
static int check_sizes(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 2048, 2049, 4096, 100000};
    unsigned char *blocks[sizeof(sizes) / sizeof(sizes[0])];
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        blocks[i] = malloc(sizes[i]);
        if (blocks[i] == NULL || (uintptr_t)blocks[i] % 16 != 0) {
            printf("hello: malloc(%zu) gave %p\n", sizes[i], (void *)blocks[i]);
            return 1;
        }
        memset(blocks[i], PATTERN_SMALL + (int)i, sizes[i]);
    }
    int bad = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (!filled(blocks[i], sizes[i], (unsigned char)(PATTERN_SMALL + i))) {
            printf("hello: block of %zu bytes at %p was overwritten\n", sizes[i],
                   (void *)blocks[i]);
            bad = 1;
        }
        free(blocks[i]);
    }
    return bad;
}

static int check_calloc_realloc(void)
{
    unsigned char *z = calloc(300, 7);
    if (z == NULL || !filled(z, 2100, 0)) {
        printf("hello: calloc(300, 7) is not zeroed\n");
        return 1;
    }
    memset(z, PATTERN_LARGE, 2100);
    unsigned char *r = realloc(z, 50000);
    if (r == NULL || !filled(r, 2100, PATTERN_LARGE)) {
        printf("hello: realloc lost the contents\n");
        return 1;
    }
    free(r);
    void *huge = calloc(SIZE_MAX / 2, 4);
    if (huge != NULL) {
        printf("hello: calloc overflow not caught\n");
        free(huge);
        return 1;
    }
    return 0;
}

int main(const struct keel_start_info *si)
{
    if (si == NULL || si->magic != KEEL_START_MAGIC) {
        printf("hello: no start info (magic %#x)\n", si != NULL ? si->magic : 0u);
        return 1;
    }
    int name_len = (int)strnlen(si->name, KEEL_NAME_MAX);
    printf("hello: partition %.*s running in ring 3, %u modules\n", name_len, si->name,
           si->module_count);
    int bad = check_sizes() | check_calloc_realloc();
    /* Freed blocks are reused: the heap must still hand out sound memory. */
    bad |= check_sizes();
    if (bad)
        return 1;
    printf("hello: done\n");
    return 0;
}
