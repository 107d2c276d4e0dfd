/*
 * What the boot loader handed over, parsed from multiboot1 or multiboot2 info
 * into one loader-neutral form that the core keeps for its whole life.
 */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "memmap.h"
#include "phys_reader.h"

#define BOOT_MODULES_MAX     32
#define BOOT_MODULE_NAME_MAX 32
#define BOOT_CMDLINE_MAX     1024
#define BOOT_RSDP_MAX        36 /* ACPI 2.0+ RSDP size */

#define MULTIBOOT1_BOOT_MAGIC 0x2badb002u /* Multiboot spec 0.6.96, section 3.2 */
#define MULTIBOOT2_BOOT_MAGIC 0x36d76289u /* Multiboot2 spec, section 3.3 */

struct boot_module {
    uint64_t start;                  /* physical, inclusive */
    uint64_t end;                    /* physical, exclusive; end == start for an empty module */
    char name[BOOT_MODULE_NAME_MAX]; /* last word of the module's command line */
};

struct boot_info {
    int protocol; /* 1 or 2 */
    char cmdline[BOOT_CMDLINE_MAX];
    char loader_name[64];
    struct memmap memmap; /* raw: memmap_normalize() is the caller's job */
    unsigned module_count;
    struct boot_module modules[BOOT_MODULES_MAX];
    /* ACPI RSDP copy from a multiboot2 ACPI tag (new one preferred), else 0. */
    unsigned rsdp_length;
    uint8_t rsdp[BOOT_RSDP_MAX];
    /* Physical range of the info structure itself (to reserve it). */
    uint64_t info_start, info_end;
    struct diag diag;
};

/* Parses the info at physical address info_phys according to magic. Every
 * pointer and length in it is checked against reader; what cannot be read is
 * reported in out->diag and skipped. Returns 0, or -1 when magic names no
 * known protocol (out->diag says so). Memory information: multiboot1 uses the
 * mmap when flag 6 is set, else mem_lower/mem_upper. Modules: a module whose
 * end precedes its start is dropped; an empty module is kept and reported.
 * A module without a name is named "module<N>". */
int bootinfo_parse(uint32_t magic, uint64_t info_phys, const struct phys_reader *reader,
                   struct boot_info *out);

/* The module named name, or NULL. */
const struct boot_module *bootinfo_find_module(const struct boot_info *bi, const char *name);

#endif
