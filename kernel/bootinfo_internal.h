/*
 * Shared between bootinfo.c and the two multiboot parsers; not part of the
 * core's interface.
 */
#ifndef KEEL_BOOTINFO_INTERNAL_H
#define KEEL_BOOTINFO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"

/* A loader-supplied string is scanned for its NUL over at most this many
 * bytes (a bound of Keel's; the multiboot specs set none). */
#define MB_STRING_SCAN_MAX 4096u

/* Where a string's bytes come from: a buffer already read (a multiboot2 tag),
 * or physical memory read one byte at a time (multiboot1 pointers), so a
 * string running into unreadable memory is cut there and never over-read. */
struct mb_bytes {
    const struct phys_reader *reader; /* NULL: use buf/len */
    uint64_t phys;
    const uint8_t *buf;
    size_t len;
};

enum mb_string_status {
    MB_STRING_OK,
    MB_STRING_TOO_LONG,     /* copied in part: the destination is full */
    MB_STRING_UNTERMINATED, /* the source ended before a NUL */
    MB_STRING_UNREADABLE,   /* a byte could not be read */
};

enum mb_string_status mb_copy_string(const struct mb_bytes *src, char *dst, size_t size);
void mb_report_string(struct boot_info *bi, const char *proto, const char *what,
                      enum mb_string_status st, size_t size);

/* Replaces control and non-ASCII bytes by '?', for strings that are shown. */
void mb_make_printable(char *s);

/* Adds module number index (the loader's, from 0) named by the last word of
 * its command line src (NULL: no command line). Checks end >= start, the
 * contents readable through reader, and room; reports and drops a module
 * that fails, reports an empty one. Returns false only when the table is full. */
bool mb_add_module(struct boot_info *bi, const struct phys_reader *reader, const char *proto,
                   unsigned index, uint64_t start, uint64_t end, const struct mb_bytes *src);

/* Adds the two usable ranges that mem_lower/mem_upper (KiB) describe. */
void mb_add_basic_memory(struct boot_info *bi, const char *proto, uint32_t lower_kib,
                         uint32_t upper_kib);

void multiboot1_parse(uint64_t info_phys, const struct phys_reader *reader, struct boot_info *bi);
void multiboot2_parse(uint64_t info_phys, const struct phys_reader *reader, struct boot_info *bi);

#endif
