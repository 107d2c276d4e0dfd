/*
 * Validation of a partition's ELF64 image (System V ABI, ELF-64 Object File
 * Format 1.5): the core loads only what passes, from a boot module it does
 * not trust. Pure logic, unit-tested and fuzzed.
 */
#ifndef KEEL_ELF_CHECK_H
#define KEEL_ELF_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
    uint64_t vaddr, memsz; /* page-aligned start, size rounded up to pages */
    uint64_t file_offset;  /* where the bytes for vaddr (unaligned) start */
    uint64_t file_vaddr;   /* p_vaddr as in the header */
    uint64_t filesz;
    int writable, executable;
};

struct elf_image {
    uint64_t entry;
    unsigned segment_count;
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* Checks image[0..size): an x86-64 little-endian ET_EXEC, program headers
 * inside the file, every PT_LOAD inside the file and inside [user_min,
 * user_max), none overlapping another (by page), the entry in an executable
 * segment. Returns NULL and fills out, or a message saying what is wrong. */
const char *elf_check(const uint8_t *image, size_t size, uint64_t user_min, uint64_t user_max,
                      struct elf_image *out);

#endif
