/*
 * Bounded access to physical memory for the parsers of boot-loader and
 * firmware data (multiboot info, ACPI tables). The core backs it with the
 * direct map; host tests and fuzzers back it with a buffer. A parser never
 * dereferences a physical address it has not obtained through read().
 */
#ifndef KEEL_PHYS_READER_H
#define KEEL_PHYS_READER_H

#include <stddef.h>
#include <stdint.h>

struct phys_reader {
    /* Returns a pointer to len readable bytes at physical address phys, or
     * NULL when any part of [phys, phys + len) is not readable. */
    const void *(*read)(const struct phys_reader *self, uint64_t phys, size_t len);
    void *ctx;
};

static inline const void *phys_read(const struct phys_reader *r, uint64_t phys, size_t len)
{
    if (len == 0 || phys + len < phys)
        return NULL;
    return r->read(r, phys, len);
}

#endif
