/*
 * A phys_reader over host buffers placed at fake physical addresses, for the
 * unit tests and fuzzers of the boot-input parsers. Each read returns a fresh
 * heap copy of exactly the bytes asked for, so AddressSanitizer catches a
 * parser that reads one byte past what it obtained through phys_read().
 */
#ifndef KEEL_TEST_FAKE_PHYS_H
#define KEEL_TEST_FAKE_PHYS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phys_reader.h"

#define FAKE_PHYS_REGIONS 8

struct fake_phys {
    struct phys_reader reader;
    struct {
        uint64_t base;
        size_t size;
        const uint8_t *data;
    } region[FAKE_PHYS_REGIONS];
    unsigned nregions;
    void **copies;
    size_t ncopies, cap;
    unsigned long reads, failed_reads;
};

static inline const void *fake_phys_read(const struct phys_reader *self, uint64_t phys, size_t len)
{
    struct fake_phys *mem = self->ctx;
    mem->reads++;
    for (unsigned i = 0; i < mem->nregions; i++) {
        uint64_t base = mem->region[i].base;
        size_t size = mem->region[i].size;
        if (phys < base || phys - base > size || len > size - (phys - base))
            continue;
        if (mem->ncopies == mem->cap) {
            mem->cap = mem->cap ? mem->cap * 2 : 64;
            mem->copies = realloc(mem->copies, mem->cap * sizeof(void *));
            if (mem->copies == NULL)
                abort();
        }
        void *copy = malloc(len);
        if (copy == NULL)
            abort();
        memcpy(copy, mem->region[i].data + (phys - base), len);
        mem->copies[mem->ncopies++] = copy;
        return copy;
    }
    mem->failed_reads++;
    return NULL;
}

static inline void fake_phys_init(struct fake_phys *fp)
{
    memset(fp, 0, sizeof(*fp));
    fp->reader.read = fake_phys_read;
    fp->reader.ctx = fp;
}

/* Maps size bytes of data (kept by reference) at physical address base. */
static inline void fake_phys_map(struct fake_phys *fp, uint64_t base, const void *data, size_t size)
{
    if (fp->nregions == FAKE_PHYS_REGIONS)
        abort();
    fp->region[fp->nregions].base = base;
    fp->region[fp->nregions].size = size;
    fp->region[fp->nregions].data = data;
    fp->nregions++;
}

/* Frees the copies handed out so far (pointers from earlier reads die). */
static inline void fake_phys_release(struct fake_phys *fp)
{
    for (size_t i = 0; i < fp->ncopies; i++)
        free(fp->copies[i]);
    fp->ncopies = 0;
}

static inline void fake_phys_fini(struct fake_phys *fp)
{
    fake_phys_release(fp);
    free(fp->copies);
    fp->copies = NULL;
    fp->cap = 0;
}

#endif
